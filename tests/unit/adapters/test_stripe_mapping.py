"""How paygate writes Stripe forms and reads Stripe answers, without a network."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.channel.stripe_results import charge_result, intent_result, refund_result
from adapters.channel.stripe_wire import failure_code, payment_intent_form, search_query
from application.ports.channel import ChargeRequest, Outcome
from domain.card import CardDetails
from domain.money import Money


def request(**kwargs: Any) -> ChargeRequest:
    return ChargeRequest("pay_1", "mer_1", Money(1_050, "EUR"), **kwargs)


def test_a_card_charge_form_creates_and_confirms_in_one_call() -> None:
    form = payment_intent_form(request(card=CardDetails("4242424242424242", 3, 2031, "999")))
    assert form == [
        ("amount", "1050"),
        ("currency", "eur"),
        ("confirm", "true"),
        ("error_on_requires_action", "true"),
        ("payment_method_types[0]", "card"),
        ("metadata[payment_no]", "pay_1"),
        ("metadata[merchant_id]", "mer_1"),
        ("payment_method_data[type]", "card"),
        ("payment_method_data[card][number]", "4242424242424242"),
        ("payment_method_data[card][exp_month]", "3"),
        ("payment_method_data[card][exp_year]", "2031"),
        ("payment_method_data[card][cvc]", "999"),
    ]


def test_a_token_charge_names_the_payment_method_and_sends_no_card() -> None:
    form = dict(payment_intent_form(request(token="pm_123")))
    assert form["payment_method"] == "pm_123"
    assert not any(key.startswith("payment_method_data") for key in form)


def test_a_search_query_escapes_quotes() -> None:
    assert search_query("pay_'1") == "metadata['payment_no']:'pay_\\'1'"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"},
            "insufficient_funds",
        ),
        (
            {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"},
            "card_declined",
        ),
        ({"type": "card_error", "code": "expired_card"}, "expired_card"),
        ({"type": "card_error", "code": "invalid_cvc"}, "incorrect_cvc"),
        ({"type": "card_error", "code": "something_new"}, "card_declined"),
        ({"type": "invalid_request_error", "code": "parameter_missing"}, "channel_error"),
        (None, "channel_error"),
    ],
)
def test_stripe_errors_map_to_paygate_failure_codes(
    error: dict[str, str] | None, code: str
) -> None:
    assert failure_code(error) == code


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        ("succeeded", Outcome.SUCCEEDED, None),
        ("processing", Outcome.UNKNOWN, None),
        ("requires_capture", Outcome.UNKNOWN, None),
        ("requires_action", Outcome.FAILED, "authentication_required"),
        ("canceled", Outcome.FAILED, "channel_error"),
    ],
)
def test_payment_intent_statuses_become_outcomes(
    status: str, outcome: Outcome, code: str | None
) -> None:
    result = intent_result({"id": "pi_1", "status": status})
    assert (result.outcome, result.failure_code, result.reference) == (outcome, code, "pi_1")


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (409, {"error": {"type": "idempotency_error"}}, Outcome.UNKNOWN),
        (200, "not an object", Outcome.UNKNOWN),
        (400, {"error": {"type": "invalid_request_error"}}, Outcome.FAILED),
        (402, {"error": {"type": "card_error", "code": "card_declined"}}, Outcome.FAILED),
    ],
)
def test_charge_answers_that_are_not_an_intent(status: int, body: object, outcome: Outcome) -> None:
    assert charge_result(httpx.Response(status, json=body)).outcome is outcome


@pytest.mark.parametrize(
    ("refund", "outcome", "code"),
    [
        ({"id": "re_1", "status": "succeeded"}, Outcome.SUCCEEDED, None),
        ({"id": "re_1", "status": "pending"}, Outcome.UNKNOWN, None),
        (
            {"id": "re_1", "status": "failed", "failure_reason": "expired_or_canceled_card"},
            Outcome.FAILED,
            "expired_or_canceled_card",
        ),
    ],
)
def test_refund_statuses_become_outcomes(
    refund: dict[str, str], outcome: Outcome, code: str | None
) -> None:
    result = refund_result(httpx.Response(200, json=refund))
    assert (result.outcome, result.failure_code) == (outcome, code)


def test_a_refused_refund_carries_stripes_code() -> None:
    answer = httpx.Response(400, json={"error": {"code": "charge_already_refunded"}})
    result = refund_result(answer)
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "charge_already_refunded")
