"""Database fixtures (filled by the warehouse work)."""
