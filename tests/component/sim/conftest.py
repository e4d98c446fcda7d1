from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class SimClient:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def get(self, base_url: str, path: str, headers: dict[str, str] | None = None, **params: Any) -> Answer:
        query = {k: str(v) for k, v in params.items()}
        async with self.session.get(base_url + path, params=query, headers=headers) as response:
            return Answer(response.status, dict(response.headers), await response.text())


@pytest.fixture
async def client() -> AsyncIterator[SimClient]:
    async with aiohttp.ClientSession() as session:
        yield SimClient(session)
