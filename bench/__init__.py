"""Benchmarks; run as modules (``python -m bench.flows``), or ``bench/flows.py`` shadows ``flows``."""
