"""The run form Prefect builds from each flow's signature: no `Property is type "None"` for an optional list."""

from __future__ import annotations

from typing import Any

import pytest

from flows._registry import OTHER_FLOWS, build_flow
from ingestion_core.datasets import DATASETS
from ingestion_core.parameters import validate_parameters
from ingestion_core.snapshots import SNAPSHOTS

pytestmark = pytest.mark.unit

FLOWS = [*DATASETS, *SNAPSHOTS, *OTHER_FLOWS]


def _optional_lists(name: str) -> list[str]:
    model = DATASETS[name].parameters if name in DATASETS else SNAPSHOTS[name].parameters
    return [
        field
        for field, info in model.model_fields.items()
        if info.default is None and "list[" in str(info.annotation) and "None" in str(info.annotation)
    ]


@pytest.mark.parametrize("name", FLOWS)
def test_no_list_field_is_offered_as_a_choice_between_a_list_and_none(name: str) -> None:
    properties: dict[str, Any] = build_flow(name).parameters.model_dump()["properties"]
    for field, schema in properties.items():
        kinds = {option.get("type") for option in schema.get("anyOf", [])}
        assert not {"array", "null"} <= kinds, (field, schema)
    if name in DATASETS or name in SNAPSHOTS:
        for field in _optional_lists(name):
            assert properties[field]["type"] == "array" and properties[field]["default"] is None, properties[field]
            assert "minItems" not in properties[field]  # emptied in the form is left out, not refused


@pytest.mark.parametrize("name", [n for n in [*DATASETS, *SNAPSHOTS] if _optional_lists(n)])
def test_an_emptied_optional_list_counts_as_left_out(name: str) -> None:
    model = DATASETS[name].parameters if name in DATASETS else SNAPSHOTS[name].parameters
    for field in _optional_lists(name):
        assert getattr(validate_parameters(model, {field: []}), field) is None
