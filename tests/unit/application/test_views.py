"""The public shapes shared by API responses and webhook bodies."""

from datetime import UTC, date, datetime, timedelta, timezone

from application.views import payment_view, refund_view, rfc3339, settlement_view
from domain.money import Money
from domain.payment import Payment, PaymentStatus
from domain.risk import Verdict
from domain.settlement import Settlement
from tests.unit.domain.builders import authorized, payment_in
from tests.unit.domain.builders import captured as captured_payment

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class TestViews:
    def test_times_are_rfc3339_utc_with_milliseconds(self) -> None:
        tokyo = timezone(timedelta(hours=9))
        assert rfc3339(datetime(2026, 11, 23, 19, 0, 0, 123456, tzinfo=tokyo)) == (
            "2026-11-23T10:00:00.123Z"
        )

    def test_a_payment_not_yet_assessed_shows_no_risk(self) -> None:
        payment = Payment(
            payment_no="pay_1",
            merchant_id="mch_1",
            order_no="O-1",
            amount=Money(500, "JPY"),
            channel="sandbox",
            created_at=T0,
            updated_at=T0,
        )
        view = payment_view(payment)
        assert (view["risk"], view["card"], view["amount"], view["currency"]) == (
            None,
            None,
            500,
            "JPY",
        )
        assert view["status"] == "pending"
        assert "merchant_id" not in view

    def test_every_payment_shows_how_it_is_captured_and_what_is_held(self) -> None:
        fields = ("capture_method", "amount_capturable", "amount_captured", "capture_before",
                  "cancellation_reason")
        held, captured = authorized(), captured_payment(capture=6_000)
        voided = authorized()
        voided.begin_void(T0, "out of stock")
        voided.void(T0)
        assert [[payment_view(p)[f] for f in fields] for p in (
            payment_in(PaymentStatus.SUCCEEDED), held, captured, voided)] == [
            ["automatic", 0, 10_000, None, None],
            ["manual", 10_000, 0, "2026-11-30T10:00:00.000Z", None],
            ["manual", 0, 6_000, "2026-11-30T10:00:00.000Z", None],
            ["manual", 0, 0, "2026-11-30T10:00:00.000Z", "out of stock"],
        ]

    def test_a_payment_that_named_its_channel_shows_its_one_attempt_by_its_status(
        self,
    ) -> None:
        def attempts(status: PaymentStatus, held: bool | None = None) -> list[tuple[object, ...]]:
            payment = payment_in(status)
            payment.failure_code = "card_declined"
            if held is not None:  # an authorization's expiry, or none (never authorized)
                payment.capture_before = T0 if held else None
            view = payment_view(payment)
            return [(a["channel"], a["outcome"], a["failure_code"], a["started_at"] ==
                     view["created_at"]) for a in view["attempts"]]

        sent = {
            PaymentStatus.PENDING: "pending",
            PaymentStatus.PROCESSING: "unknown",
            PaymentStatus.REQUIRES_CAPTURE: "succeeded",
            PaymentStatus.SUCCEEDED: "succeeded",
            PaymentStatus.PARTIALLY_REFUNDED: "succeeded",
            PaymentStatus.REFUNDED: "succeeded",
        }
        for status, outcome in sent.items():
            assert attempts(status) == [("sandbox", outcome, None, True)], status
        assert attempts(PaymentStatus.FAILED) == [("sandbox", "failed", "card_declined", True)]
        for never_sent in (PaymentStatus.REQUIRES_REVIEW, PaymentStatus.REJECTED):
            assert attempts(never_sent) == [], never_sent
            assert attempts(never_sent, held=True) == [], never_sent
        assert attempts(PaymentStatus.CANCELED, held=False) == []  # in review: never sent
        assert attempts(PaymentStatus.CANCELED, held=True) == [  # authorized, then voided
            ("sandbox", "succeeded", None, True)]
        assert all(type(a["outcome"]) is str for a in
                   payment_view(payment_in(PaymentStatus.SUCCEEDED))["attempts"])

    def test_statuses_verdicts_and_capture_methods_are_shown_as_plain_strings(self) -> None:
        for status in PaymentStatus:
            view = payment_view(payment_in(status))
            assert (type(view["status"]), view["status"]) == (str, status.value)
            assert type(view["capture_method"]) is str
            assert view["capture_method"] == (
                "manual" if status in (PaymentStatus.REQUIRES_CAPTURE, PaymentStatus.CANCELED)
                else "automatic")
        for verdict, status in ((Verdict.REVIEW, "requires_review"), (Verdict.REJECT, "rejected")):
            view = payment_view(payment_in(PaymentStatus[status.upper()]))
            assert (type(view["risk"]["decision"]), view["risk"]["decision"]) == (
                str, verdict.value)

    def test_a_refund_view_carries_no_merchant_internals(self) -> None:
        payment = payment_in(PaymentStatus.SUCCEEDED)
        refund = payment.reserve_refund("ref_1", 250, T0, "damaged")
        assert refund_view(refund) == {
            "refund_no": "ref_1",
            "payment_no": "pay_1",
            "amount": 250,
            "currency": "USD",
            "status": "pending",
            "reason": "damaged",
            "failure_code": None,
            "created_at": "2026-11-23T10:00:00.000Z",
        }

    def test_a_settlement_view_shows_the_net(self) -> None:
        settlement = Settlement(
            "stl_1", "mch_1", "USD", date(2026, 11, 22), 1_000, 100, 59, 2, 1, T0
        )
        view = settlement_view(settlement)
        assert (view["date"], view["net"], view["gross"], view["fees"]) == (
            "2026-11-22",
            841,
            1_000,
            59,
        )
        assert view["created_at"] == "2026-11-23T10:00:00.000Z"
