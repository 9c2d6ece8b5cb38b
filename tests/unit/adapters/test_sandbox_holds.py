"""The sandbox's authorizations: their lifetime, their capture test cards, and voids."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from adapters.channel.sandbox import SandboxChannel
from application.ports.channel import (
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    Outcome,
    VoidRequest,
)
from domain.card import CardDetails
from domain.money import Money

SECRET = "sandbox-test-secret"
CAPTURE_DECLINED = "4000000000000341"
CAPTURE_UNKNOWN = "4000000000001000"


def authorization(number: str = "4242424242424242", token: str | None = None) -> ChargeRequest:
    card = None if token else CardDetails(number, 12, 2030, "123")
    return ChargeRequest("pay_1", "mer_1", Money(10_000, "USD"), card=card, token=token)


def capture_of(held: ChargeResult, amount: int = 6_000) -> CaptureRequest:
    return CaptureRequest("pay_1", "mer_1", Money(amount, "USD"), held.reference)


@pytest.fixture
def sandbox() -> SandboxChannel:
    return SandboxChannel(SECRET)


async def test_an_authorization_holds_for_the_configured_lifetime(
    sandbox: SandboxChannel,
) -> None:
    short = SandboxChannel(SECRET, authorization_ttl=timedelta(seconds=2))
    before = datetime.now(UTC)

    held = await short.authorize(authorization())

    assert held.outcome is Outcome.SUCCEEDED
    assert held.capture_before is not None
    assert before + timedelta(seconds=2) <= held.capture_before
    assert held.capture_before <= datetime.now(UTC) + timedelta(seconds=2)
    assert re.fullmatch(r"auth_sandbox_ok_[0-9a-f]{24}", held.reference or "")


async def test_the_lifetime_is_seven_days_unless_the_environment_says(
    sandbox: SandboxChannel,
) -> None:
    configured = SandboxChannel.from_environ(
        {"PAYGATE_SANDBOX_SECRET": SECRET, "PAYGATE_SANDBOX_AUTHORIZATION_TTL": "1.5"})
    week = (await sandbox.authorize(authorization())).capture_before
    brief = (await configured.authorize(authorization())).capture_before
    assert week is not None
    assert brief is not None
    assert timedelta(days=7) - timedelta(minutes=1) < week - brief < timedelta(days=7)


async def test_an_authorization_is_declined_like_a_charge(sandbox: SandboxChannel) -> None:
    held = await sandbox.authorize(authorization("4000000000000002"))
    assert (held.outcome, held.failure_code, held.capture_before) == (
        Outcome.FAILED, "card_declined", None)


async def test_a_capture_goes_through_once_per_payment(sandbox: SandboxChannel) -> None:
    held = await sandbox.authorize(authorization())

    first = await sandbox.capture(capture_of(held))
    again = await sandbox.capture(capture_of(held))

    assert first.outcome is Outcome.SUCCEEDED
    assert again == first
    assert sandbox.moves_for("capture-pay_1") == 1
    assert await sandbox.query_capture("pay_1", held.reference) == first


async def test_the_capture_declined_card_authorizes_and_its_capture_is_declined(
    sandbox: SandboxChannel,
) -> None:
    held = await sandbox.authorize(authorization(CAPTURE_DECLINED))

    captured = await sandbox.capture(capture_of(held))

    assert held.outcome is Outcome.SUCCEEDED
    assert (captured.outcome, captured.failure_code) == (Outcome.FAILED, "card_declined")
    assert (await sandbox.query_capture("pay_1", None)).outcome is Outcome.FAILED


async def test_the_capture_unknown_card_loses_the_answer_of_a_capture_that_went_through(
    sandbox: SandboxChannel,
) -> None:
    held = await sandbox.authorize(authorization(CAPTURE_UNKNOWN))

    captured = await sandbox.capture(capture_of(held))

    assert captured.outcome is Outcome.UNKNOWN
    assert (await sandbox.query_capture("pay_1", held.reference)).outcome is Outcome.SUCCEEDED
    assert (await sandbox.capture(capture_of(held))).outcome is Outcome.SUCCEEDED
    assert sandbox.moves_for("capture-pay_1") == 1


async def test_another_process_knows_the_capture_scenario_from_the_reference(
    sandbox: SandboxChannel,
) -> None:
    held = await sandbox.authorize(authorization(CAPTURE_DECLINED))
    other_process = SandboxChannel(SECRET)
    assert (await other_process.capture(capture_of(held))).failure_code == "card_declined"


async def test_an_authorization_from_a_review_token_keeps_its_capture_scenario(
    sandbox: SandboxChannel,
) -> None:
    token = await sandbox.tokenize(CardDetails(CAPTURE_DECLINED, 12, 2030, "123"))
    held = await sandbox.authorize(authorization(token=token))
    assert (await sandbox.capture(capture_of(held))).outcome is Outcome.FAILED


async def test_a_void_goes_through_once_and_is_reported_so(sandbox: SandboxChannel) -> None:
    held = await sandbox.authorize(authorization())
    request = VoidRequest("pay_1", "mer_1", held.reference)

    first, again = await sandbox.void(request), await sandbox.void(request)

    assert first.outcome is Outcome.SUCCEEDED
    assert again == first
    assert sandbox.moves_for("void-pay_1") == 1
    assert await sandbox.query_void("pay_1", held.reference) == first


async def test_a_capture_or_void_this_process_never_saw_is_reported_as_done(
    sandbox: SandboxChannel,
) -> None:
    assert (await sandbox.query_capture("pay_9", None)).outcome is Outcome.SUCCEEDED
    assert (await sandbox.query_void("pay_9", None)).outcome is Outcome.SUCCEEDED
