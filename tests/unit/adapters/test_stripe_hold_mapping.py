"""Reading Stripe's manual intents: authorized, captured, still held, canceled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.channel.stripe_results import capture_state, intent_result, move_result, void_state
from application.ports.channel import NOT_CAPTURED, Outcome


def intent(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": "pi_1", "status": status, "capture_method": "manual", **fields}


def test_a_manual_intent_requiring_capture_is_an_authorization_with_its_hold() -> None:
    card = {"capture_before": 1_800_000_000}
    held = intent("requires_capture",
                  latest_charge={"payment_method_details": {"card": card}})

    result = intent_result(held)

    assert (result.outcome, result.reference) == (Outcome.SUCCEEDED, "pi_1")
    assert result.capture_before == datetime.fromtimestamp(1_800_000_000, UTC)


@pytest.mark.parametrize("charge", [None, "ch_1", {"payment_method_details": None}])
def test_a_hold_stripe_does_not_date_has_no_capture_before(charge: object) -> None:
    result = intent_result(intent("requires_capture", latest_charge=charge))
    assert (result.outcome, result.capture_before) == (Outcome.SUCCEEDED, None)


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        ("succeeded", Outcome.SUCCEEDED, None),
        ("requires_capture", Outcome.FAILED, NOT_CAPTURED),
        ("canceled", Outcome.FAILED, "authorization_canceled"),
        ("processing", Outcome.UNKNOWN, None),
    ],
)
def test_a_captures_fate_is_read_from_its_intent(
    status: str, outcome: Outcome, code: str | None
) -> None:
    result = capture_state(intent(status))
    assert (result.outcome, result.failure_code) == (outcome, code)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("canceled", Outcome.SUCCEEDED),
        ("requires_capture", Outcome.FAILED),
        ("succeeded", Outcome.FAILED),
        ("processing", Outcome.UNKNOWN),
    ],
)
def test_a_voids_fate_is_read_from_its_intent(status: str, outcome: Outcome) -> None:
    assert void_state(intent(status)).outcome is outcome


@pytest.mark.parametrize(
    ("status", "body", "outcome", "code"),
    [
        (200, intent("succeeded"), Outcome.SUCCEEDED, None),
        (500, {"error": {"type": "api_error"}}, Outcome.UNKNOWN, None),
        (409, {"error": {"type": "idempotency_error"}}, Outcome.UNKNOWN, None),
        (402, {"error": {"type": "card_error", "code": "card_declined"}},
         Outcome.FAILED, "card_declined"),
        (400, {"error": {"type": "invalid_request_error",
                         "code": "payment_intent_unexpected_state",
                         "payment_intent": intent("canceled")}},
         Outcome.FAILED, "channel_error"),
    ],
)
def test_a_capture_answer_is_the_intent_or_the_refusal(
    status: int, body: object, outcome: Outcome, code: str | None
) -> None:
    result = move_result(httpx.Response(status, json=body), capture_state)
    assert (result.outcome, result.failure_code) == (outcome, code)


def test_a_cancel_refused_because_the_intent_is_already_canceled_is_a_void_done() -> None:
    refusal = {"error": {"type": "invalid_request_error", "payment_intent": intent("canceled")}}
    assert move_result(httpx.Response(400, json=refusal), void_state).outcome is Outcome.SUCCEEDED
