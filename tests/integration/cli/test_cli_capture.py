"""`paygate payments capture|cancel`: an operator's capture or cancel, on a real database."""

from __future__ import annotations

from typing import Any

import pytest
from cli_harness import CARD_REVIEW, Paygate, assert_clean_failure

from domain.authorization import CaptureMethod

MANUAL = CaptureMethod.MANUAL


@pytest.fixture
def held(paygate: Paygate, merchant: dict[str, Any]) -> str:
    payment = paygate.take_payment(merchant["merchant_id"], "ORDER-H", capture_method=MANUAL)
    assert payment["status"] == "requires_capture"
    return str(payment["payment_no"])


def test_capture_takes_the_amount_asked_and_releases_the_rest(
    paygate: Paygate, held: str
) -> None:
    captured = paygate.json("payments", "capture", held, "--amount", "2500")

    assert (captured["status"], captured["amount_captured"]) == ("succeeded", 2_500)
    assert captured["amount_capturable"] == 0
    assert paygate.json("payments", "show", held) == captured


def test_capture_without_an_amount_takes_everything_held(paygate: Paygate, held: str) -> None:
    result = paygate("payments", "capture", held)

    assert result.exit_code == 0, result.output
    assert "succeeded" in result.stdout
    assert paygate.json("payments", "show", held)["amount_captured"] == 10_000


def test_cancel_voids_the_authorization_with_the_reason(paygate: Paygate, held: str) -> None:
    canceled = paygate.json("payments", "cancel", held, "--reason", "out of stock")
    assert (canceled["status"], canceled["cancellation_reason"]) == ("canceled", "out of stock")


def test_cancel_ends_a_review(paygate: Paygate, merchant: dict[str, Any]) -> None:
    review = paygate.take_payment(merchant["merchant_id"], "ORDER-R", card=CARD_REVIEW)
    assert paygate.json("payments", "cancel", review["payment_no"])["status"] == "canceled"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--amount", "10001"), "amount_exceeded"),
        (("--amount", "0"), "invalid_amount"),
    ],
)
def test_a_bad_amount_is_one_line_exit_1_and_changes_nothing(
    paygate: Paygate, held: str, args: tuple[str, ...], code: str
) -> None:
    before = paygate.json("payments", "show", held)
    assert_clean_failure(paygate("payments", "capture", held, *args), 1, code)
    assert paygate.json("payments", "show", held) == before


def test_capturing_an_automatic_payment_is_invalid_status(
    paygate: Paygate, merchant: dict[str, Any]
) -> None:
    paid = paygate.take_payment(merchant["merchant_id"], "ORDER-A")
    assert_clean_failure(paygate("payments", "capture", paid["payment_no"]), 1, "invalid_status")
    assert_clean_failure(paygate("payments", "cancel", paid["payment_no"]), 1, "invalid_status")


def test_an_unknown_payment_is_not_found(paygate: Paygate, merchant: dict[str, Any]) -> None:
    assert_clean_failure(paygate("payments", "capture", "pay_nope"), 1, "not_found")


@pytest.mark.parametrize(
    "args",
    [("capture", "{held}", "--amount", "lots"), ("cancel", "{held}", "--reason", "x" * 501),
     ("capture",)],
)
def test_bad_usage_is_exit_2_and_changes_nothing(
    paygate: Paygate, held: str, args: tuple[str, ...]
) -> None:
    before = paygate.json("payments", "show", held)
    result = paygate("payments", *(a.format(held=held) for a in args))
    assert_clean_failure(result, 2)
    assert paygate.json("payments", "show", held) == before


@pytest.mark.parametrize("value", ["0", "-5", "soon", "nan"])
def test_a_sandbox_hold_lifetime_that_is_not_seconds_above_zero_is_exit_2(
    paygate: Paygate, value: str
) -> None:
    misconfigured = Paygate({**paygate.env, "PAYGATE_SANDBOX_AUTHORIZATION_TTL": value})
    result = misconfigured("payments", "list")
    assert_clean_failure(result, 2, "configuration", "PAYGATE_SANDBOX_AUTHORIZATION_TTL")
