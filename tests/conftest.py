"""Shared test configuration. Fixtures live in plugin modules owned by each layer."""

from __future__ import annotations

pytest_plugins = ("tests.plugin_sim", "tests.plugin_db", "tests.plugin_prefect")
