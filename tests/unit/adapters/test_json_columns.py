"""JSON columns are written by msgspec (~0.1 µs a value against `json.dumps`'s ~1.5 µs)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as sqlalchemy_create_async_engine

from adapters.persistence import engine as engine_module
from adapters.persistence.engine import create_engine, json_text


@pytest.mark.parametrize(
    "value",
    [{}, {"cart": "42", "note": "café ☕"}, {"nested": {"list": [1, 2.5, None, True]}}, []],
)
def test_json_text_is_valid_json_of_the_same_value(value: object) -> None:
    assert json.loads(json_text(value)) == value


def test_json_text_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        json_text({"amount": object()})


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///./unused.db", "postgresql+asyncpg://u@127.0.0.1:1/unused"]
)
def test_both_engines_write_json_with_it(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []

    def create_async_engine(url: object, **options: Any) -> AsyncEngine:
        asked.append(options)
        return sqlalchemy_create_async_engine(url, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(engine_module, "create_async_engine", create_async_engine)
    create_engine(url)  # nothing connects until a statement runs

    assert [options["json_serializer"] for options in asked] == [json_text]
