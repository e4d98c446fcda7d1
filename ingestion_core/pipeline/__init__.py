"""The time-series machinery shared by every dataset: plan, then fetch → transform → upsert per window."""
