"""ccdata-ingest core: settings, errors, the CCData client, datasets, the warehouse and the pipeline (no Prefect)."""
