"""The declarative description of a snapshot dataset (imports no Polars: command-line help reads it)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from ingestion_core.db.tables import TableSpec


@dataclass(frozen=True, slots=True)
class SnapshotSpec:
    """One snapshot dataset.

    Attributes:
        name: dataset name (``futures_instruments``); also its flow module and event resource.
        title: what it refreshes, for help texts and summaries.
        tables: the tables it writes, in write order.
        parameters: its run parameters (a frozen pydantic model; every field described).
        flow_name: the Prefect flow name (``futures-instruments``).
    """

    name: str
    title: str
    tables: tuple[TableSpec, ...]
    parameters: type[BaseModel]
    flow_name: str = ""

    def __post_init__(self) -> None:
        if not self.flow_name:
            object.__setattr__(self, "flow_name", self.name.replace("_", "-"))
