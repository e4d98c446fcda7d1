"""Simulator fixtures (filled by the simulator work)."""
