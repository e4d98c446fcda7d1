"""The ``validate_shadow`` flow's parameter types: one definition for the flow and its command line.

The flow (``flows/_shadow.py``) and its light module (``flows/validate_shadow.py``, whose ``--help`` imports no
Prefect) both read them from here, below both. Pydantic only.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: Schema (server database) of the legacy tables: an identifier, since it is written into SQL text.
LegacySchema = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
#: Closed UTC days compared in the time-series tables, ending yesterday.
Days = Annotated[int, Field(ge=1, le=366)]
#: Relative tolerance of floating-point columns.
Tolerance = Annotated[float, Field(ge=0, le=1)]
