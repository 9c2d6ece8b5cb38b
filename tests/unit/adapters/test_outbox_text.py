"""An outbox entry as stored on its payment's row: read back exactly as written, whatever
its events hold, one line per entry, with each entry's place in the text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, cast

import pytest

from adapters.persistence.outbox import entries_of, entry_line
from application.ports.events import Announced, OutboxEntry

TRICKY = "é \u2028 \u2029 \x85 😀 \x00 \x1f \n \" \\ </script>"
AT = datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=UTC)


def _events() -> tuple[Announced, ...]:
    data = {"payment_no": TRICKY, "amount": 2**63 - 1, "score": 3.272186513670976e-08,
            "risk": {"reasons": [TRICKY, "velocity"]}, "metadata": {TRICKY: TRICKY},
            "card": None, "refunded": False}
    return (Announced("evt_1", "payment.processing", data, False),
            Announced("evt_2", "payment.succeeded", {**data, "status": "succeeded"}, True))


def _entry(at: datetime = AT, traceparent: str | None = "00-ab-cd-01") -> OutboxEntry:
    return OutboxEntry("mer_1", _events(), at, "https://shop.example/hook", traceparent)


def _row(text: str) -> Any:
    return cast(Any, SimpleNamespace(payment_no="pay_1", merchant_id="mer_1",
                                     notify_url="https://shop.example/hook", unpublished=text))


def test_entries_read_back_as_written_with_their_place_in_the_text() -> None:
    first, second = entry_line(_entry()), entry_line(_entry(AT + timedelta(seconds=1), None))
    read = entries_of(_row(first + second))
    assert [e.position for e in read] == [("pay_1", len(first)), ("pay_1", len(first + second))]
    assert [e.events for e in read] == [_events(), _events()]
    assert [e.created_at for e in read] == [AT, AT + timedelta(seconds=1)]
    assert [e.traceparent for e in read] == ["00-ab-cd-01", None]
    assert {(e.merchant_id, e.notify_url) for e in read} == {("mer_1", "https://shop.example/hook")}


def test_an_entry_is_one_line_of_compact_json_with_characters_unescaped() -> None:
    line = entry_line(_entry())
    assert line.endswith("\n")
    assert line.count("\n") == 1  # a line break inside an event is escaped
    assert json.loads(line)["events"][1]["type"] == "payment.succeeded"
    assert ", " not in line
    assert ": " not in line.replace(TRICKY, "").replace(json.dumps(TRICKY)[1:-1], "")
    assert "é" in line  # UTF-8, not \\u escapes
    assert "😀" in line


def test_an_instant_in_another_zone_reads_back_as_the_same_instant_in_utc() -> None:
    east = AT.astimezone(timezone(timedelta(hours=8)))
    (read,) = entries_of(_row(entry_line(_entry(east))))
    assert read.created_at == AT
    assert read.created_at.tzinfo is UTC


def test_an_event_that_is_not_json_is_refused() -> None:
    entry = OutboxEntry("mer_1", (Announced("evt_1", "payment.pending", {"at": object()}),), AT)
    with pytest.raises(TypeError):
        entry_line(entry)
