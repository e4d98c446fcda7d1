"""The signature Prefect builds a flow's run form from: one typed keyword parameter per field of the run's model.

An optional list (``markets: list[str] | None = None``, "empty = all") is offered as a plain list: the form renders
a union with ``None`` as a second choice reading `Property is type "None"`. Left empty it still sends nothing (the
default, None); emptied after adding items it sends ``[]``, which the door reads as not given
(``ingestion_core.parameters.validate_parameters``).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo


def form_annotation(info: FieldInfo) -> Any:
    """The field's annotation for the form: an optional list as the list, constraints kept."""
    annotation: Any = info.annotation
    metadata = list(info.metadata)
    if get_origin(annotation) in (Union, types.UnionType) and info.default is None:
        kept = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(kept) == 1 and get_origin(kept[0]) is list:
            annotation = kept[0]
            metadata = [m for m in metadata if not isinstance(m, MinLen)]  # emptied = left out, not an error
    return Annotated[(annotation, *metadata)] if metadata else annotation


def form_signature(model: type[BaseModel], names: Sequence[str] | None = None) -> inspect.Signature:
    """A keyword-only signature with one parameter per field of ``model`` (in ``names`` order when given)."""
    return inspect.Signature(
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=model.model_fields[name].get_default(call_default_factory=True),
                annotation=form_annotation(model.model_fields[name]),
            )
            for name in (names if names is not None else list(model.model_fields))
        ]
    )
