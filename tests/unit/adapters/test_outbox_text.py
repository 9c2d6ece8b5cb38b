"""An outbox entry's events as stored: read back exactly as written, whatever they hold."""

from __future__ import annotations

import json

import pytest

from adapters.persistence.outbox import _events_of, _events_text
from application.ports.events import Announced

TRICKY = "é \u2028 😀 \x00 \x1f \" \\ </script>"


def _events() -> tuple[Announced, ...]:
    data = {"payment_no": TRICKY, "amount": 2**63 - 1, "score": 3.272186513670976e-08,
            "risk": {"reasons": [TRICKY, "velocity"]}, "metadata": {TRICKY: TRICKY},
            "card": None, "refunded": False}
    return (Announced("evt_1", "payment.processing", data, False),
            Announced("evt_2", "payment.succeeded", {**data, "status": "succeeded"}, True))


def test_events_read_back_as_written() -> None:
    assert _events_of(_events_text(_events())) == _events()


def test_the_text_is_compact_json_with_characters_unescaped() -> None:
    text = _events_text(_events())
    assert json.loads(text)[1]["type"] == "payment.succeeded"
    assert ", " not in text
    assert ": " not in text.replace(TRICKY, "")
    assert "é" in text  # UTF-8, not \\u escapes
    assert "😀" in text


def test_an_event_that_is_not_json_is_refused() -> None:
    with pytest.raises(TypeError):
        _events_text((Announced("evt_1", "payment.pending", {"at": object()}, False),))
