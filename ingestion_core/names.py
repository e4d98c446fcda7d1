"""What an item of a list parameter naming things (``markets``, ``instruments``) must be, defined once.

An empty item reaches the API as an empty query value, which the API reads as no filter at all: ``--markets ""``
(or a form row left empty) would quietly mean every market. Such an item is refused at the door instead.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("an empty or blank item; give the names, or leave the parameter out to select all")
    return value


#: One name in a list parameter: any text that is not empty or blank.
ListedName = Annotated[str, AfterValidator(_not_blank)]
