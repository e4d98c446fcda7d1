"""Every setting is documented: each field of every settings model appears in docs/configuration.md and .env.example.

The variables are derived from the models (their first alias, the name the docs use), so a field added without a line
in either file fails here.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from ingestion_core import settings as settings_module
from ingestion_core.settings import Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _variables() -> list[str]:
    names = []
    for model in typing.get_type_hints(Settings, vars(settings_module)).values():
        assert isinstance(model, type) and issubclass(model, BaseSettings)
        for field, info in model.model_fields.items():
            alias = info.validation_alias
            first = alias.choices[0] if isinstance(alias, AliasChoices) else None
            names.append(first if isinstance(first, str) else field.upper())
    return names


VARIABLES = _variables()


def test_there_are_settings_to_check() -> None:
    assert len(VARIABLES) > 30 and "CCDATA_API_KEY" in VARIABLES and "DB_READ_TIMEOUT_SECONDS" in VARIABLES


@pytest.mark.parametrize("name", VARIABLES)
def test_every_setting_is_in_the_configuration_page(name: str) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert f"`{name}`" in text, f"{name} is not documented in docs/configuration.md"


@pytest.mark.parametrize("name", VARIABLES)
def test_every_setting_is_in_the_example_env_file(name: str) -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(rf"^#? ?{re.escape(name)}=", text, flags=re.MULTILINE), f"{name} is missing from .env.example"
