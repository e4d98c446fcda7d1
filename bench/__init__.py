"""Benchmarks; run as modules (``python -m bench.flows``), or ``bench/flows.py`` shadows ``flows``."""

import ingestion_core  # noqa: F401  (first, as in production: it sizes Polars' thread pool before Polars is imported)
