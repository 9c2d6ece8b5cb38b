"""The sandbox channel: every contract test card, tokens, idempotency and refunds."""

from __future__ import annotations

import re
import time

import pytest

from adapters.channel.sandbox import REFUND_FAILURE_AMOUNT, SandboxChannel
from application.ports.channel import ChargeRequest, Outcome, RefundRequest
from domain.card import CardDetails
from domain.money import Money

SECRET = "sandbox-test-secret"


def card(number: str) -> CardDetails:
    return CardDetails(number, 12, 2030, "123")


def charge(
    number: str | None = "4242424242424242", payment_no: str = "pay_1", token: str | None = None
) -> ChargeRequest:
    return ChargeRequest(
        payment_no,
        "mer_1",
        Money(10_000, "USD"),
        card=card(number) if number else None,
        token=token,
    )


@pytest.fixture
def sandbox() -> SandboxChannel:
    return SandboxChannel(SECRET)


@pytest.mark.parametrize(
    ("number", "outcome", "failure_code"),
    [
        ("4242424242424242", Outcome.SUCCEEDED, None),
        ("4000000000000002", Outcome.FAILED, "card_declined"),
        ("4000000000009995", Outcome.FAILED, "insufficient_funds"),
        ("4000000000000119", Outcome.FAILED, "processing_error"),
        ("4000000000000259", Outcome.UNKNOWN, None),
        ("4000000000004954", Outcome.SUCCEEDED, None),
        ("5555555555554444", Outcome.SUCCEEDED, None),
    ],
)
async def test_each_test_card_has_its_contract_outcome(
    sandbox: SandboxChannel, number: str, outcome: Outcome, failure_code: str | None
) -> None:
    result = await sandbox.charge(charge(number))
    assert (result.outcome, result.failure_code) == (outcome, failure_code)


async def test_a_successful_charge_has_a_reference(sandbox: SandboxChannel) -> None:
    result = await sandbox.charge(charge())
    assert result.reference is not None
    assert result.reference.startswith("ch_sandbox_")


async def test_the_unknown_card_later_reports_success(sandbox: SandboxChannel) -> None:
    first = await sandbox.charge(charge("4000000000000259"))
    queried = await sandbox.query_charge("pay_1", None)
    assert (first.outcome, queried.outcome) == (Outcome.UNKNOWN, Outcome.SUCCEEDED)


async def test_a_retry_of_the_unknown_charge_reports_the_real_outcome_without_charging_again(
    sandbox: SandboxChannel,
) -> None:
    await sandbox.charge(charge("4000000000000259"))
    again = await sandbox.charge(charge("4000000000000259"))
    assert again.outcome is Outcome.SUCCEEDED
    assert sandbox.charges_for("pay_1") == 1


async def test_a_charge_is_idempotent_on_its_key(sandbox: SandboxChannel) -> None:
    first = await sandbox.charge(charge())
    second = await sandbox.charge(charge())
    assert first == second
    assert sandbox.charges_for("pay_1") == 1
    assert sandbox.charges_for("pay_2") == 0


async def test_a_processing_error_is_replayed_for_the_same_key_but_not_for_a_new_one(
    sandbox: SandboxChannel,
) -> None:
    await sandbox.charge(charge("4000000000000119"))
    replay = await sandbox.charge(charge("4000000000000119"))
    fresh = await sandbox.charge(charge("4000000000000119", payment_no="pay_2"))
    assert replay.failure_code == fresh.failure_code == "processing_error"
    assert (sandbox.charges_for("pay_1"), sandbox.charges_for("pay_2")) == (1, 1)


async def test_a_token_keeps_the_card_scenario_and_nothing_of_the_number(
    sandbox: SandboxChannel,
) -> None:
    token = await sandbox.tokenize(card("4000000000000002"))
    assert re.fullmatch(r"tok_sandbox_declined_[0-9a-f]{24}", token)


async def test_a_token_charges_in_another_process(sandbox: SandboxChannel) -> None:
    token = await sandbox.tokenize(card("4000000000009995"))
    other_process = SandboxChannel(SECRET)
    result = await other_process.charge(charge(None, token=token))
    assert result.failure_code == "insufficient_funds"


@pytest.mark.parametrize("token", ["tok_other_1", "tok_sandbox_martian_abc", "tok_sandbox_ok"])
async def test_a_foreign_token_fails_without_charging(sandbox: SandboxChannel, token: str) -> None:
    result = await sandbox.charge(charge(None, token=token))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_token")
    assert sandbox.charges_for("pay_1") == 0


async def test_a_refund_succeeds_once_per_key(sandbox: SandboxChannel) -> None:
    request = RefundRequest("ref_1", "pay_1", Money(2_500, "USD"))
    first, again = await sandbox.refund(request), await sandbox.refund(request)
    assert first.outcome is Outcome.SUCCEEDED
    assert first == again
    assert sandbox.refunds_for("ref_1") == 1


async def test_a_refund_of_the_failure_amount_fails(sandbox: SandboxChannel) -> None:
    request = RefundRequest("ref_1", "pay_1", Money(REFUND_FAILURE_AMOUNT, "USD"))
    result = await sandbox.refund(request)
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "refund_declined")


async def test_refunds_can_be_made_to_fail_for_tests() -> None:
    failing = SandboxChannel(SECRET, fail_refunds=True)
    result = await failing.refund(RefundRequest("ref_1", "pay_1", Money(2_500, "USD")))
    assert result.outcome is Outcome.FAILED
    assert (await failing.query_refund("ref_1", None)).outcome is Outcome.FAILED


async def test_query_refund_reports_a_refund_it_never_saw_as_succeeded(
    sandbox: SandboxChannel,
) -> None:
    assert (await sandbox.query_refund("ref_9", None)).outcome is Outcome.SUCCEEDED


async def test_latency_is_configurable() -> None:
    slow = SandboxChannel(SECRET, latency=0.05)
    started = time.monotonic()
    await slow.charge(charge())
    assert time.monotonic() - started >= 0.05


def test_settings_come_from_the_environment() -> None:
    channel = SandboxChannel.from_environ(
        {"PAYGATE_SANDBOX_SECRET": SECRET, "PAYGATE_SANDBOX_LATENCY_MS": "5"}
    )
    assert channel.name == "sandbox"


def test_a_missing_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="PAYGATE_SANDBOX_SECRET"):
        SandboxChannel.from_environ({})


async def test_the_memory_is_bounded() -> None:
    channel = SandboxChannel(SECRET, capacity=2)
    for n in range(3):
        await channel.charge(charge(payment_no=f"pay_{n}"))
    assert [channel.charges_for(f"pay_{n}") for n in range(3)] == [0, 1, 1]


async def test_an_expired_card_is_declined_with_expired_card_once_per_key(
    sandbox: SandboxChannel,
) -> None:
    expired = CardDetails("4242424242424242", 1, 2001, "123")
    request = ChargeRequest("pay_old", "mer_1", Money(10_000, "USD"), card=expired)

    first, again = await sandbox.charge(request), await sandbox.charge(request)

    assert (first.outcome, first.failure_code) == (Outcome.FAILED, "expired_card")
    assert again == first
    assert sandbox.charges_for("pay_old") == 1
