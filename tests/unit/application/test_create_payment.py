import asyncio
import json
from datetime import timedelta

import pytest

from application.errors import Unavailable
from application.ports.channel import ChargeRequest, ChargeResult, Outcome, RefundRequest
from application.ports.external import OrderRequest, RiskRequest
from domain.card import CardDetails, CardSummary
from domain.errors import (
    DuplicateOrder,
    InvalidAmount,
    InvalidChannel,
    InvalidCurrency,
    InvalidCustomer,
)
from domain.money import MAX_MINOR_UNITS, MAX_PAYMENT_MINOR_UNITS, Money
from domain.payment import Payment, PaymentStatus
from domain.risk import RiskDecision, Verdict
from tests.unit.fakes import FakeOrders, FakeRisk, Gateway
from tests.unit.fakes.channel import (
    DECLINED,
    INSUFFICIENT_FUNDS,
    PROCESSING_ERROR,
    TIMES_OUT,
)
from tests.unit.fakes.external import REJECT_CARD, REVIEW_CARD
from tests.unit.fakes.platform import START

S = PaymentStatus


def nothing_was_written(gateway: Gateway) -> bool:
    db = gateway.db
    return not (db.payments or db.postings or db.outbox or gateway.channel.charges)


class TestCreatePayment:
    async def test_approved_card_is_charged_and_the_payment_succeeds(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, amount=12_345, order_no="ORDER-A")

        stored = gateway.db.payment(payment.payment_no)
        assert stored == payment
        assert stored.status is S.SUCCEEDED
        assert stored.amount == Money(12_345, "USD")
        assert stored.card == CardSummary("visa", "4242")
        assert stored.risk == RiskDecision(Verdict.APPROVE, 10)
        assert stored.channel_reference == f"ch_{payment.payment_no}"
        assert stored.captured_at == gateway.clock.now()
        assert gateway.channel.charges == {payment.payment_no: 1}
        assert gateway.orders.orders[(merchant_id, "ORDER-A")].payment_no == payment.payment_no
        assert gateway.orders.statuses[(merchant_id, "ORDER-A")] == "succeeded"
        assert gateway.merchant_balance(merchant_id, "USD") == 12_345

    async def test_card_number_and_cvc_are_used_for_the_charge_and_never_stored(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        command = gateway.payment_command(
            merchant_id,
            card=CardDetails("5555555555554444", 1, 2031, "7319"),
            notify_url="https://merchant.example/hooks",
        )
        payment = await gateway.create_payment(command)

        assert gateway.channel.charge_requests[0].card == command.card
        everything_kept = repr(gateway.db.payments) + repr(gateway.db.outbox)
        assert "5555555555554444" not in everything_kept
        assert "7319" not in everything_kept
        assert gateway.db.payment(payment.payment_no).card == CardSummary("mastercard", "4444")

    async def test_customer_details_reach_risk_and_the_order_gets_description_and_metadata(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(
            merchant_id,
            order_no="ORDER-B",
            customer_id="cus_1",
            email="a@example.com",
            ip="203.0.113.7",
            description="two mugs",
            metadata={"cart": "42"},
        )
        [request] = gateway.risk.requests
        assert (request.customer_id, request.email, request.ip) == (
            "cus_1",
            "a@example.com",
            "203.0.113.7",
        )
        assert gateway.orders.orders[(merchant_id, "ORDER-B")] == OrderRequest(
            merchant_id,
            "ORDER-B",
            payment.payment_no,
            Money(10_000, "USD"),
            "two mugs",
            {"cart": "42"},
        )
        stored = gateway.db.payment(payment.payment_no)
        assert (stored.customer_id, stored.description, stored.metadata) == (
            "cus_1",
            "two mugs",
            {"cart": "42"},
        )

    async def test_risk_sees_the_customer_ip_in_one_spelling(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id, ip="::ffff:203.0.113.7")
        [request] = gateway.risk.requests
        assert request.ip == "203.0.113.7"

    @pytest.mark.parametrize(("field", "value"), [
        ("ip", "999.1.1.1"), ("ip", "not an address"), ("email", "nope"),
        ("email", "a@b@example.com"),
    ])
    async def test_a_malformed_customer_ip_or_email_is_refused_and_nothing_happens(
        self, gateway: Gateway, merchant_id: str, field: str, value: str
    ) -> None:
        with pytest.raises(InvalidCustomer, match=field) as error:
            await gateway.pay(merchant_id, **{field: value})
        assert error.value.code == "validation_error"
        assert nothing_was_written(gateway)
        assert gateway.risk.requests == []
        assert gateway.orders.orders == {}

    async def test_the_largest_payment_is_accepted(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, amount=MAX_PAYMENT_MINOR_UNITS, currency="CHF")
        assert gateway.db.payment(payment.payment_no).amount.amount == 999_999_999_999

    @pytest.mark.parametrize(
        "amount",
        [10.0, 99.99, True, 0, -1, MAX_PAYMENT_MINOR_UNITS + 1, MAX_MINOR_UNITS, 2**63, "1", None],
    )
    async def test_invalid_amount_is_refused_and_nothing_happens(
        self, gateway: Gateway, merchant_id: str, amount: object
    ) -> None:
        with pytest.raises(InvalidAmount) as error:
            await gateway.pay(merchant_id, amount=amount)
        assert error.value.code == "invalid_amount"
        assert nothing_was_written(gateway)
        assert gateway.risk.requests == []

    @pytest.mark.parametrize("currency", ["XXX", "usd", "", "DOLLARS"])
    async def test_unknown_currency_is_refused_with_invalid_currency(
        self, gateway: Gateway, merchant_id: str, currency: str
    ) -> None:
        with pytest.raises(InvalidCurrency):
            await gateway.pay(merchant_id, currency=currency)
        assert nothing_was_written(gateway)
        assert gateway.orders.orders == {}

    async def test_unknown_channel_is_refused_with_invalid_channel(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        with pytest.raises(InvalidChannel, match="sandbox") as error:
            await gateway.pay(merchant_id, channel="paypal")
        assert error.value.code == "invalid_channel"
        assert nothing_was_written(gateway)

    async def test_an_order_no_already_used_by_the_merchant_is_a_duplicate(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        first = await gateway.pay(merchant_id, order_no="ORDER-1")
        with pytest.raises(DuplicateOrder, match="ORDER-1") as error:
            await gateway.pay(merchant_id, order_no="ORDER-1")
        assert error.value.code == "duplicate_order"
        # the merchant whose first answer was lost learns which payment holds the order
        assert error.value.details == {"order_no": "ORDER-1", "payment_no": first.payment_no}
        assert list(gateway.db.payments) == [first.payment_no]
        assert gateway.channel.charges == {first.payment_no: 1}
        # with a remote order book the duplicate is caught before risk and the order service
        assert len(gateway.risk.requests) == 1

    async def test_the_same_order_no_is_free_for_another_merchant(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        other = await gateway.onboard("Globex")
        await gateway.pay(merchant_id, order_no="ORDER-1")
        theirs = await gateway.pay(other, order_no="ORDER-1")
        assert gateway.db.payment(theirs.payment_no).status is S.SUCCEEDED

    async def test_a_duplicate_that_races_past_the_check_is_refused_on_insert(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        class RacingOrders(FakeOrders):
            raced = False

            async def create_order(self, request: OrderRequest) -> str:
                if not self.raced:  # another worker takes the same order_no meanwhile
                    self.raced = True
                    await gateway.pay(merchant_id, order_no=request.order_no)
                return await super().create_order(request)

        gateway.orders = RacingOrders()
        with pytest.raises(DuplicateOrder):
            await gateway.pay(merchant_id, order_no="ORDER-R")
        assert len(gateway.db.payments) == 1
        assert sum(gateway.channel.charges.values()) == 1

    async def test_risk_rejection_ends_it_rejected_and_nothing_is_charged(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, REJECT_CARD)
        stored = gateway.db.payment(payment.payment_no)
        assert stored.status is S.REJECTED
        assert stored.failure_code == "risk_rejected"
        assert stored.risk == RiskDecision(Verdict.REJECT, 95, ("blocked_card",))
        assert gateway.channel.charges == {}
        assert gateway.db.postings == []

    async def test_risk_unavailable_persists_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.risk.failure = Unavailable("risk service down")
        with pytest.raises(Unavailable):
            await gateway.pay(merchant_id)
        assert nothing_was_written(gateway)
        assert gateway.orders.orders == {}

    async def test_order_service_unavailable_persists_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.orders.create_failure = Unavailable("order service down")
        with pytest.raises(Unavailable) as error:
            await gateway.pay(merchant_id)
        assert error.value.code == "unavailable"
        assert nothing_was_written(gateway)

    @pytest.mark.parametrize(
        ("number", "failure_code"),
        [
            (DECLINED, "card_declined"),
            (INSUFFICIENT_FUNDS, "insufficient_funds"),
            (PROCESSING_ERROR, "processing_error"),
        ],
    )
    async def test_declined_charge_fails_the_payment_with_the_channels_code(
        self, gateway: Gateway, merchant_id: str, number: str, failure_code: str
    ) -> None:
        payment = await gateway.pay(merchant_id, number, order_no="ORDER-D")
        stored = gateway.db.payment(payment.payment_no)
        assert (stored.status, stored.failure_code) == (S.FAILED, failure_code)
        assert stored.failure_message == failure_code.replace("_", " ")
        assert stored.captured_at is None
        assert gateway.db.postings == []
        assert gateway.orders.statuses[(merchant_id, "ORDER-D")] == "failed"

    async def test_a_failure_without_a_code_is_a_processing_error(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.channel.script_charges(ChargeResult(Outcome.FAILED))
        payment = await gateway.pay(merchant_id)
        assert gateway.db.payment(payment.payment_no).failure_code == "processing_error"

    async def test_review_card_waits_in_review_with_a_token_and_is_not_charged(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, REVIEW_CARD)
        stored = gateway.db.payment(payment.payment_no)
        assert stored.status is S.REQUIRES_REVIEW
        assert stored.payment_token == "tok_1"
        assert gateway.channel.charges == {}

    async def test_unknown_outcome_waits_in_processing_until_the_reconciler_resolves_it(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, TIMES_OUT)
        assert gateway.db.payment(payment.payment_no).status is S.PROCESSING
        assert gateway.db.postings == []

        assert await gateway.reconcile() == {}  # still within the grace period
        gateway.clock.advance(seconds=61)
        assert await gateway.reconcile() == {"succeeded": 1}

        stored = gateway.db.payment(payment.payment_no)
        assert stored.status is S.SUCCEEDED
        assert gateway.merchant_balance(merchant_id, "USD") == 10_000
        assert gateway.channel.charges == {payment.payment_no: 1}

    @pytest.mark.parametrize(
        "surprise", [TimeoutError("read timeout"), ConnectionResetError(), RuntimeError("bug")]
    )
    async def test_a_channel_that_raises_leaves_it_processing_never_failed(
        self, gateway: Gateway, merchant_id: str, surprise: Exception
    ) -> None:
        gateway.channel.script_charges(surprise)
        payment = await gateway.pay(merchant_id)
        stored = gateway.db.payment(payment.payment_no)
        assert stored.status is S.PROCESSING
        assert stored.failure_code is None

    async def test_a_crash_during_the_charge_leaves_a_pending_payment_for_the_reconciler(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.channel.script_charges(asyncio.CancelledError())
        with pytest.raises(asyncio.CancelledError):
            await gateway.pay(merchant_id)
        [payment_no] = gateway.db.payments
        assert gateway.db.payment(payment_no).status is S.PENDING

        gateway.clock.advance(seconds=61)
        assert await gateway.reconcile() == {"succeeded": 1}
        assert gateway.db.payment(payment_no).status is S.SUCCEEDED

    async def test_a_database_outage_after_the_charge_leaves_it_for_the_reconciler(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        async def database_goes_down(request: ChargeRequest | RefundRequest) -> None:
            gateway.db.down = True

        gateway.channel.before_answer = database_goes_down
        answered = await gateway.pay(merchant_id)
        [payment_no] = gateway.db.payments
        # the card was charged: the merchant gets the payment as it stands, not a 503 that
        # says nothing was written, and learns the outcome from the reconciler's webhook
        assert (answered.payment_no, answered.status) == (payment_no, S.PENDING)
        assert gateway.db.payment(payment_no).status is S.PENDING
        assert gateway.db.postings == []

        gateway.db.down = False
        gateway.clock.advance(seconds=61)
        assert await gateway.reconcile() == {"succeeded": 1}
        assert gateway.db.payment(payment_no).status is S.SUCCEEDED
        assert gateway.channel.charges == {payment_no: 1}

    async def test_notify_url_gets_a_webhook_event_with_the_final_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, notify_url="https://merchant.example/hooks")
        await gateway.publish_events()
        [delivery] = gateway.db.deliveries.values()
        event = gateway.db.events[delivery.event_id]
        body = json.loads(event.body)
        assert (delivery.type, delivery.url, delivery.merchant_id, delivery.endpoint_id) == (
            "payment.succeeded",
            "https://merchant.example/hooks",
            merchant_id,
            None,
        )
        assert body["id"] == event.event_id
        assert body["type"] == "payment.succeeded"
        assert body["created_at"] == "2026-11-23T10:00:00.000Z"
        assert body["data"]["payment_no"] == payment.payment_no
        assert body["data"]["status"] == "succeeded"
        assert body["data"]["card"] == {"brand": "visa", "last4": "4242"}
        assert delivery.next_attempt_at == gateway.clock.now()

    async def test_rejected_payment_is_announced_too(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id, REJECT_CARD, notify_url="https://m.example/h")
        assert gateway.db.notified_types() == ["payment.rejected"]

    async def test_without_notify_url_the_events_are_written_for_the_feed_only(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id)
        await gateway.pay(merchant_id, DECLINED)
        assert gateway.db.notified_types() == []
        assert gateway.db.event_types() == [
            "payment.pending", "payment.processing", "payment.succeeded",
            "payment.pending", "payment.processing", "payment.failed",
        ]

    async def test_a_payment_under_review_or_in_flight_is_not_announced(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id, REVIEW_CARD, notify_url="https://m.example/h")
        await gateway.pay(merchant_id, TIMES_OUT, notify_url="https://m.example/h")
        assert gateway.db.notified_types() == []
        assert gateway.db.event_types() == [
            "payment.requires_review", "payment.pending", "payment.processing"
        ]

    async def test_no_external_call_happens_inside_a_database_transaction(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        for number in (REVIEW_CARD, TIMES_OUT, DECLINED, REJECT_CARD, "4242424242424242"):
            await gateway.pay(merchant_id, number)
        gateway.clock.advance(minutes=5)
        await gateway.reconcile()
        assert gateway.channel.calls_in_transaction == 0
        assert gateway.risk.calls_in_transaction == 0
        assert gateway.orders.calls_in_transaction == 0
        assert gateway.db.open_units == 0

    async def test_a_remote_order_book_is_never_handed_a_transaction(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        commits = gateway.db.commits
        await gateway.pay(merchant_id, order_no="ORDER-REMOTE")
        assert gateway.orders.orders[(merchant_id, "ORDER-REMOTE")]
        assert gateway.orders.statuses[(merchant_id, "ORDER-REMOTE")] == "succeeded"
        assert gateway.orders.calls_in_transaction == 0
        assert gateway.db.commits - commits == 2  # `pending`, then the outcome

    async def test_a_notification_that_overtakes_the_answer_wins_and_nothing_is_doubled(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        async def notify_first(request: ChargeRequest | RefundRequest) -> None:
            await gateway.notify("charge.succeeded", request.payment_no)

        gateway.channel.before_answer = notify_first
        payment = await gateway.pay(merchant_id, notify_url="https://m.example/h")

        assert payment.status is S.SUCCEEDED
        assert gateway.db.payment(payment.payment_no).status is S.SUCCEEDED
        assert [p.posting_id for p in gateway.db.postings] == [f"capture:{payment.payment_no}"]
        assert gateway.db.notified_types() == ["payment.succeeded"]
        assert gateway.db.event_types() == [
            "payment.pending", "payment.processing", "payment.succeeded"
        ]

    async def test_a_payment_is_timestamped_by_the_clock(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.clock.advance(hours=3)
        payment: Payment = await gateway.pay(merchant_id)
        stored = gateway.db.payment(payment.payment_no)
        assert stored.created_at == stored.updated_at == START + timedelta(hours=3)


class TestOrderBookInTheSameDatabase:
    """A local order book rides in the payment's units of work: one commit each, and an
    order exists exactly when its payment does."""

    @pytest.fixture
    def local_orders(self, gateway: Gateway) -> FakeOrders:
        gateway.orders = FakeOrders(db=gateway.db, shares_database=True)
        return gateway.orders

    async def test_the_order_and_its_status_commit_with_the_payment(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        commits = gateway.db.commits
        payment = await gateway.pay(merchant_id, order_no="ORDER-L")
        assert local_orders.orders[(merchant_id, "ORDER-L")].payment_no == payment.payment_no
        assert local_orders.statuses[(merchant_id, "ORDER-L")] == "succeeded"
        assert local_orders.calls_in_transaction == 2  # create, then the status
        assert gateway.db.commits - commits == 2  # no commit of its own for the order

    async def test_a_payment_reads_nothing_before_its_first_write(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        await gateway.pay(merchant_id, order_no="ORDER-L")
        assert gateway.db.reads == 0  # the insert itself finds a duplicate

    async def test_a_duplicate_is_refused_on_insert_and_charges_nothing(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        first = await gateway.pay(merchant_id, order_no="ORDER-L")
        commits = gateway.db.commits
        with pytest.raises(DuplicateOrder, match="ORDER-L") as error:
            await gateway.pay(merchant_id, order_no="ORDER-L")
        assert error.value.details == {"order_no": "ORDER-L", "payment_no": first.payment_no}
        assert list(gateway.db.payments) == [first.payment_no]
        assert gateway.channel.charges == {first.payment_no: 1}
        assert local_orders.orders[(merchant_id, "ORDER-L")].payment_no == first.payment_no
        assert gateway.db.commits == commits
        assert len(gateway.risk.requests) == 2  # assessed, then refused on insert

    async def test_a_duplicate_sent_to_review_is_refused_before_its_card_is_tokenized(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        first = await gateway.pay(merchant_id, REVIEW_CARD, order_no="ORDER-LR")
        with pytest.raises(DuplicateOrder):
            await gateway.pay(merchant_id, REVIEW_CARD, order_no="ORDER-LR")
        assert list(gateway.db.payments) == [first.payment_no]
        assert list(gateway.channel._tokens) == [first.payment_token]

    async def test_a_declined_payment_leaves_its_order_failed(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        await gateway.pay(merchant_id, DECLINED, order_no="ORDER-LD")
        assert local_orders.statuses[(merchant_id, "ORDER-LD")] == "failed"

    async def test_an_unknown_outcome_leaves_the_order_created(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        payment = await gateway.pay(merchant_id, TIMES_OUT, order_no="ORDER-LT")
        assert gateway.db.payment(payment.payment_no).status is S.PROCESSING
        assert (merchant_id, "ORDER-LT") in local_orders.orders
        assert local_orders.statuses == {}

    async def test_a_duplicate_refused_on_insert_writes_no_second_order(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        class RacingRisk(FakeRisk):
            raced = False

            async def assess(self, request: RiskRequest) -> RiskDecision:
                if not self.raced:  # another worker takes the same order_no meanwhile
                    self.raced = True
                    await gateway.pay(merchant_id, order_no=request.order_no)
                return await super().assess(request)

        gateway.risk = RacingRisk(db=gateway.db)
        with pytest.raises(DuplicateOrder):
            await gateway.pay(merchant_id, order_no="ORDER-X")
        [winner] = gateway.db.payments.values()
        assert local_orders.orders[(merchant_id, "ORDER-X")].payment_no == winner.payment_no
        assert len(local_orders.orders) == 1

    async def test_a_failed_commit_takes_the_order_with_it(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        class DownAtCommit(FakeOrders):
            async def create_order(self, request: OrderRequest, within: object = None) -> str:
                reference = await super().create_order(request, within)
                gateway.db.down = True  # the database goes away before COMMIT
                return reference

        gateway.orders = orders = DownAtCommit(db=gateway.db, shares_database=True)
        with pytest.raises(Unavailable):
            await gateway.pay(merchant_id, order_no="ORDER-C")
        gateway.db.down = False
        assert orders.orders == {}
        assert nothing_was_written(gateway)

    async def test_an_outcome_that_cannot_be_committed_leaves_the_order_as_it_was(
        self, gateway: Gateway, merchant_id: str, local_orders: FakeOrders
    ) -> None:
        class DownAtStatus(FakeOrders):
            async def update_status(
                self, merchant_id: str, order_no: str, status: str, within: object = None
            ) -> None:
                await super().update_status(merchant_id, order_no, status, within)
                gateway.db.down = True  # the database goes away before COMMIT

        gateway.orders = orders = DownAtStatus(db=gateway.db, shares_database=True)
        answered = await gateway.pay(merchant_id, order_no="ORDER-S")
        gateway.db.down = False
        [payment] = gateway.db.payments.values()
        assert payment.status is S.PENDING  # the reconciler will ask the channel
        assert answered.status is S.PENDING
        assert (merchant_id, "ORDER-S") in orders.orders
        assert orders.statuses == {}
