"""Shadow runs: compare what a parallel run wrote (``TARGET_SCHEMA``) with the legacy tables.

Every difference is classified as intended (a documented legacy defect fixed on purpose) or unexpected.
"""
