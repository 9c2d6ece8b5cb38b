"""StripeChannel authorizing, capturing and cancelling against a local fake Stripe."""

from __future__ import annotations

from datetime import UTC, datetime

from fake_stripe import HOLD_SECONDS, NOW, FakeStripe

from adapters.channel.stripe_channel import StripeChannel
from application.ports.channel import (
    NOT_CAPTURED,
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    Outcome,
    RefundRequest,
    VoidRequest,
)
from domain.card import CardDetails
from domain.money import Money


def authorization(number: str = "4242424242424242", payment_no: str = "pay_1") -> ChargeRequest:
    card = CardDetails(number, 12, 2030, "123")
    return ChargeRequest(payment_no, "mer_1", Money(10_000, "USD"), card=card)


def capture_of(held: ChargeResult, amount: int = 6_000) -> CaptureRequest:
    return CaptureRequest("pay_1", "mer_1", Money(amount, "USD"), held.reference)


async def test_an_authorization_is_a_manual_intent_held_until_stripe_says(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    held = await stripe.authorize(authorization())

    path, headers, form = fake_stripe.posts[0]
    sent = dict(form)
    assert (path, headers["idempotency-key"]) == ("/v1/payment_intents", "pay_1")
    assert (sent["capture_method"], sent["confirm"], sent["expand[0]"]) == (
        "manual", "true", "latest_charge")
    assert (held.outcome, held.reference) == (Outcome.SUCCEEDED, "pi_1")
    assert held.capture_before == datetime.fromtimestamp(NOW + HOLD_SECONDS, UTC)
    assert fake_stripe.intents["pi_1"]["status"] == "requires_capture"


async def test_a_declined_authorization_fails_like_a_charge(stripe: StripeChannel) -> None:
    held = await stripe.authorize(authorization("4000000000000002"))
    assert (held.outcome, held.failure_code) == (Outcome.FAILED, "card_declined")


async def test_a_capture_posts_the_amount_to_the_intents_capture_once(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    held = await stripe.authorize(authorization())

    captured = await stripe.capture(capture_of(held))
    again = await stripe.capture(capture_of(held))

    path, headers, form = fake_stripe.posts[1]
    assert (path, headers["idempotency-key"]) == ("/v1/payment_intents/pi_1/capture",
                                                  "capture-pay_1")
    assert dict(form) == {"amount_to_capture": "6000"}
    assert (captured.outcome, captured.reference) == (Outcome.SUCCEEDED, "pi_1")
    assert again == captured
    assert fake_stripe.moves["capture:pi_1"] == 1
    assert fake_stripe.intents["pi_1"]["amount_received"] == 6_000


async def test_captured_money_is_refundable_and_no_more(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    held = await stripe.authorize(authorization())
    await stripe.capture(capture_of(held))

    too_much = await stripe.refund(RefundRequest("ref_1", "pay_1", Money(6_001, "USD"), "pi_1"))
    enough = await stripe.refund(RefundRequest("ref_2", "pay_1", Money(6_000, "USD"), "pi_1"))

    assert (too_much.outcome, enough.outcome) == (Outcome.FAILED, Outcome.SUCCEEDED)


async def test_a_cancel_voids_the_intent_and_a_capture_after_it_is_refused(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    held = await stripe.authorize(authorization())

    voided = await stripe.void(VoidRequest("pay_1", "mer_1", held.reference))
    late = await stripe.capture(capture_of(held))

    assert fake_stripe.posts[1][0] == "/v1/payment_intents/pi_1/cancel"
    assert fake_stripe.posts[1][1]["idempotency-key"] == "void-pay_1"
    assert voided.outcome is Outcome.SUCCEEDED
    assert (late.outcome, late.failure_code) == (Outcome.FAILED, "channel_error")
    assert fake_stripe.intents["pi_1"]["status"] == "canceled"


async def test_a_cancel_of_an_intent_stripe_already_canceled_is_a_void_done(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    held = await stripe.authorize(authorization())
    fake_stripe.intents["pi_1"]["status"] = "canceled"  # Stripe let the hold lapse

    voided = await stripe.void(VoidRequest("pay_1", "mer_1", held.reference))

    assert voided.outcome is Outcome.SUCCEEDED


async def test_a_capture_without_an_answer_is_unknown_and_queried_later(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    held = await stripe.authorize(authorization())
    fake_stripe.fail_next(500, 500, 500)

    lost = await stripe.capture(capture_of(held))
    before = await stripe.query_capture("pay_1", held.reference)
    await stripe.capture(capture_of(held))
    after = await stripe.query_capture("pay_1", held.reference)

    assert lost.outcome is Outcome.UNKNOWN
    assert (before.outcome, before.failure_code) == (Outcome.FAILED, NOT_CAPTURED)
    assert after.outcome is Outcome.SUCCEEDED


async def test_a_void_is_queried_by_the_intents_state(
    stripe: StripeChannel, fake_stripe: FakeStripe
) -> None:
    held = await stripe.authorize(authorization())
    not_yet = await stripe.query_void("pay_1", None)  # found by its metadata
    await stripe.void(VoidRequest("pay_1", "mer_1", held.reference))
    done = await stripe.query_void("pay_1", held.reference)

    assert not_yet.outcome is Outcome.FAILED
    assert done.outcome is Outcome.SUCCEEDED


async def test_the_reconciler_sees_a_lost_authorization_as_authorized(
    stripe: StripeChannel,
) -> None:
    await stripe.authorize(authorization("4000000000000259", payment_no="pay_slow"))
    queried = await stripe.query_charge("pay_slow", None)
    assert queried.outcome is Outcome.SUCCEEDED
