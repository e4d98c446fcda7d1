"""The numeric options of ``make deploy`` and the worker, typed once: a bad value is one ``error:`` line, exit 2.

Checked by the argument parser (``flows._cli.checked``), so a dry run refuses what a real run would, before any
server is contacted.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: Flow runs at once on a work pool or a worker: 0 would run nothing, a negative number is not a limit.
RunLimit = Annotated[int, Field(ge=1)]
#: A duration in seconds: finite and not negative.
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
