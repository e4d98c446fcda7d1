"""Operational setup on a Prefect server: work pool and alerting automations (idempotent)."""
