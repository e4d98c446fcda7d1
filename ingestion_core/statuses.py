"""The instrument statuses of the Data API's ``markets/instruments`` endpoints, defined once.

Legacy fetched only some of them (S-1, F-5); discovery requests all six in one comma-separated value, and the
time-series selections filter on them.
"""

from __future__ import annotations

from typing import Literal, get_args

InstrumentStatus = Literal["ACTIVE", "IGNORED", "RETIRED", "EXPIRED", "READY_FOR_DECOMMISSIONING", "RETIRED_UNMAPPED"]
INSTRUMENT_STATUSES: tuple[InstrumentStatus, ...] = get_args(InstrumentStatus)
#: Every status but ACTIVE: the instruments the legacy discoveries never stored (F-5, S-1).
NOT_ACTIVE: tuple[InstrumentStatus, ...] = tuple(s for s in INSTRUMENT_STATUSES if s != "ACTIVE")
