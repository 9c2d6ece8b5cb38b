"""StripeChannel against a local fake Stripe over real HTTP."""

from __future__ import annotations

import pytest
from adapter_http_settings import QUICK, WEBHOOK_SECRET
from fake_stripe import API_KEY, FakeStripe
from threaded_server import free_port

from adapters.channel.stripe_channel import StripeChannel
from adapters.resilience import Breakers
from application.ports.channel import ChargeRequest, Outcome, RefundRequest
from domain.card import CardDetails
from domain.money import Money


def charge(number: str = "4242424242424242", payment_no: str = "pay_1") -> ChargeRequest:
    card = CardDetails(number, 12, 2030, "123")
    return ChargeRequest(payment_no, "mer_1", Money(10_000, "USD"), card=card, description="Tea")


async def test_a_successful_charge_sends_stripes_wire_format(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    result = await stripe.charge(charge())
    path, headers, form = fake_stripe.posts[0]
    sent = dict(form)
    assert (result.outcome, result.reference) == (Outcome.SUCCEEDED, "pi_1")
    assert (path, headers["idempotency-key"]) == ("/v1/payment_intents", "pay_1")
    assert (sent["amount"], sent["currency"], sent["confirm"]) == ("10000", "usd", "true")
    assert sent["payment_method_data[card][number]"] == "4242424242424242"
    assert (sent["metadata[payment_no]"], sent["description"]) == ("pay_1", "Tea")


@pytest.mark.parametrize(
    ("number", "failure_code"),
    [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000000127", "incorrect_cvc"),
        ("4000000000000119", "processing_error"),
    ],
)
async def test_declines_map_to_paygate_failure_codes(
    stripe: StripeChannel, number: str, failure_code: str
) -> None:
    result = await stripe.charge(charge(number))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, failure_code)
    assert result.reference is not None


async def test_a_retried_charge_replays_without_charging_twice(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    first = await stripe.charge(charge())
    again = await stripe.charge(charge())
    assert first == again
    assert fake_stripe.charges["pay_1"] == 1


async def test_a_5xx_is_retried_with_the_same_key_and_succeeds(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_next(500, 503)
    result = await stripe.charge(charge())
    assert result.outcome is Outcome.SUCCEEDED
    assert [headers["idempotency-key"] for _, headers, _ in fake_stripe.posts] == ["pay_1"] * 3
    assert fake_stripe.charges["pay_1"] == 1


async def test_a_timeout_is_unknown_and_a_later_query_finds_the_success(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    result = await stripe.charge(charge("4000000000000259", payment_no="pay_slow"))
    queried = await stripe.query_charge("pay_slow", None)
    assert result.outcome is Outcome.UNKNOWN
    assert (queried.outcome, queried.reference) == (Outcome.SUCCEEDED, "pi_1")
    assert fake_stripe.charges["pay_slow"] == 1


async def test_a_charge_that_stays_5xx_is_unknown(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_next(*[500] * QUICK.attempts)
    assert (await stripe.charge(charge())).outcome is Outcome.UNKNOWN


async def test_a_charge_that_cannot_connect_fails_as_channel_unavailable() -> None:
    closed = StripeChannel.connect(
        API_KEY,
        WEBHOOK_SECRET,
        Breakers(),
        base_url=f"http://127.0.0.1:{free_port()}",
        policy=QUICK,
    )
    result = await closed.charge(charge())
    await closed.aclose()
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "channel_unavailable")


async def test_an_open_breaker_fails_charges_fast(
    stripe: StripeChannel, fake_stripe: FakeStripe, breakers: Breakers
) -> None:
    fake_stripe.fail_next(*[500] * 6)
    await stripe.charge(charge(payment_no="pay_a"))
    await stripe.charge(charge(payment_no="pay_b"))
    result = await stripe.charge(charge(payment_no="pay_c"))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "channel_unavailable")
    assert breakers.states() == {"channel:stripe": "open"}
    assert len(fake_stripe.posts) == 5


async def test_a_wrong_api_key_charges_nothing(
    stripe_server: tuple[str, object], fake_stripe: FakeStripe
) -> None:
    wrong = StripeChannel.connect(
        "sk_test_wrong", WEBHOOK_SECRET, Breakers(), base_url=stripe_server[0], policy=QUICK
    )
    result = await wrong.charge(charge())
    await wrong.aclose()
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "channel_unavailable")
    assert fake_stripe.charges == {}


async def test_a_tokenized_card_is_charged_later(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    token = await stripe.tokenize(CardDetails("4000000000009995", 1, 2031, "321"))
    result = await stripe.charge(ChargeRequest("pay_2", "mer_1", Money(500, "EUR"), token=token))
    assert token.startswith("pm_")
    assert result.failure_code == "insufficient_funds"
    assert dict(fake_stripe.posts[-1][2])["payment_method"] == token


async def test_refunds_are_idempotent_and_found_again(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    charged = await stripe.charge(charge())
    request = RefundRequest("ref_1", "pay_1", Money(2_500, "USD"), charged.reference)
    first, again = await stripe.refund(request), await stripe.refund(request)
    by_reference = await stripe.query_refund("ref_1", first.reference)
    by_metadata = await stripe.query_refund("ref_1", None)
    assert first.outcome is Outcome.SUCCEEDED
    assert first == again == by_reference == by_metadata
    assert fake_stripe.intents["pi_1"]["amount_refunded"] == 2_500


async def test_a_refund_without_a_reference_finds_its_payment_intent(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    await stripe.charge(charge())
    result = await stripe.refund(RefundRequest("ref_2", "pay_1", Money(10_000, "USD")))
    assert result.outcome is Outcome.SUCCEEDED
    assert fake_stripe.intents["pi_1"]["amount_refunded"] == 10_000


async def test_a_refund_stripe_refuses_fails_with_its_code(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    charged = await stripe.charge(charge())
    result = await stripe.refund(
        RefundRequest("ref_3", "pay_1", Money(20_000, "USD"), charged.reference)
    )
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "amount_too_large")


async def test_a_query_about_an_unknown_payment_stays_unknown(stripe: StripeChannel) -> None:
    result = await stripe.query_charge("pay_never", None)
    assert (result.outcome, result.failure_code) == (Outcome.UNKNOWN, "not_found")
