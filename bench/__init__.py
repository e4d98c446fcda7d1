"""Benchmarks. Run them as modules (``python -m bench.flows``): as a script, ``bench/flows.py`` would shadow ``flows``."""
