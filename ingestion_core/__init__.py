"""ccdata-ingest core: settings, errors, the CCData client, datasets, the warehouse and the pipeline (no Prefect).

Importing it sets Polars' thread pool to one thread unless ``POLARS_MAX_THREADS`` is set or Polars is already imported
(Polars sizes its pool when it is first imported). Each task works on frames of a few thousand rows and the run's
parallelism comes from its tasks and instruments, so a pool of one thread per core only adds hand-offs: on a 1m
backfill (10 instruments x 30 days) the client used 12-17% less CPU with one thread (``docs/architecture.md``).
"""

import os
import sys

POLARS_THREADS_DEFAULT = "1"

if "polars" not in sys.modules:
    os.environ.setdefault("POLARS_MAX_THREADS", POLARS_THREADS_DEFAULT)
