"""Reading payments, refunds, settlements, webhooks and merchants: scoping and paging."""

from datetime import timedelta

import pytest

from application.commands import SettleCommand
from application.errors import NotFound, ValidationFailed
from application.ports.events import DeliveryStatus
from application.ports.storage import PaymentQuery, RefundQuery
from application.use_cases.list_merchants import ListMerchantIds, ListMerchants
from application.use_cases.list_settlements import ListSettlements
from application.use_cases.list_webhooks import ListWebhooks
from domain.payment import PaymentStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import DECLINED
from tests.unit.fakes.platform import START


class TestGetPayment:
    async def test_a_merchant_reads_its_own_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        assert await gateway.get_payment(payment.payment_no, merchant_id) == payment

    async def test_another_merchants_payment_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        other = await gateway.onboard("Other")
        with pytest.raises(NotFound) as error:
            await gateway.get_payment(payment.payment_no, other)
        assert error.value.code == "not_found"

    async def test_an_operator_reads_any_payment(self, gateway: Gateway, merchant_id: str) -> None:
        payment = await gateway.pay(merchant_id)
        assert (await gateway.get_payment(payment.payment_no)).merchant_id == merchant_id

    async def test_an_unknown_payment_is_not_found(self, gateway: Gateway) -> None:
        with pytest.raises(NotFound, match="pay_missing"):
            await gateway.get_payment("pay_missing")


class TestGetRefund:
    async def test_a_merchant_reads_its_own_refund_and_nobody_elses(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        refund = (await gateway.refund(payment.payment_no, 100, merchant_id)).refund
        other = await gateway.onboard("Other")

        assert await gateway.get_refund(refund.refund_no, merchant_id) == refund
        assert await gateway.get_refund(refund.refund_no) == refund
        with pytest.raises(NotFound):
            await gateway.get_refund(refund.refund_no, other)

    async def test_an_unknown_refund_is_not_found(self, gateway: Gateway) -> None:
        with pytest.raises(NotFound, match="ref_missing"):
            await gateway.get_refund("ref_missing")


class TestListPayments:
    async def test_pages_go_newest_first_without_gaps_or_repeats(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        made = []
        for _ in range(5):
            made.append((await gateway.pay(merchant_id)).payment_no)
            gateway.clock.advance(seconds=1)
        other = await gateway.onboard("Other")
        await gateway.pay(other)

        seen, cursor, pages = [], None, 0
        while True:
            page = await gateway.list_payments(
                PaymentQuery(merchant_id=merchant_id, limit=2, cursor=cursor)
            )
            seen += [p.payment_no for p in page.items]
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == made[::-1]
        assert pages == 3

    async def test_filters_by_status_order_and_creation_time(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        ok = await gateway.pay(merchant_id, order_no="A")
        gateway.clock.advance(hours=1)
        failed = await gateway.pay(merchant_id, DECLINED, order_no="B")

        by_status = await gateway.list_payments(
            PaymentQuery(merchant_id=merchant_id, status=PaymentStatus.FAILED)
        )
        by_order = await gateway.list_payments(PaymentQuery(merchant_id=merchant_id, order_no="A"))
        by_time = await gateway.list_payments(
            PaymentQuery(merchant_id=merchant_id, created_to=START + timedelta(minutes=1))
        )
        assert [p.payment_no for p in by_status.items] == [failed.payment_no]
        assert [p.payment_no for p in by_order.items] == [ok.payment_no]
        assert [p.payment_no for p in by_time.items] == [ok.payment_no]

    @pytest.mark.parametrize("limit", [0, 101, -5])
    async def test_a_limit_outside_1_to_100_is_refused(
        self, gateway: Gateway, merchant_id: str, limit: int
    ) -> None:
        with pytest.raises(ValidationFailed, match="limit"):
            await gateway.list_payments(PaymentQuery(merchant_id=merchant_id, limit=limit))

    async def test_a_time_window_that_ends_before_it_starts_is_refused(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        query = PaymentQuery(
            merchant_id=merchant_id, created_from=START, created_to=START - timedelta(seconds=1)
        )
        with pytest.raises(ValidationFailed, match="created_from"):
            await gateway.list_payments(query)

    async def test_a_one_instant_window_is_fine(self, gateway: Gateway, merchant_id: str) -> None:
        payment = await gateway.pay(merchant_id)
        query = PaymentQuery(merchant_id=merchant_id, created_from=START, created_to=START)
        # Not refused. Like every window it is half-open, [created_from, created_to), so
        # it holds nothing: the in-memory fake used to end windows inclusively, which
        # SQLite and PostgreSQL never did (the repository contract suite found it).
        assert payment.created_at == START
        assert [p.payment_no for p in (await gateway.list_payments(query)).items] == []


class TestListRefunds:
    async def test_the_refunds_of_a_payment_newest_first(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        first = (await gateway.refund(payment.payment_no, 100, merchant_id)).refund
        gateway.clock.advance(seconds=1)
        second = (await gateway.refund(payment.payment_no, 200, merchant_id)).refund
        unrelated = await gateway.pay(merchant_id)
        await gateway.refund(unrelated.payment_no, 300, merchant_id)

        page = await gateway.list_refunds(
            RefundQuery(merchant_id=merchant_id, payment_no=payment.payment_no)
        )
        assert [r.refund_no for r in page.items] == [second.refund_no, first.refund_no]
        assert page.next_cursor is None

    async def test_the_refunds_of_another_merchants_payment_are_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        await gateway.refund(payment.payment_no, 100, merchant_id)
        other = await gateway.onboard("Other")
        with pytest.raises(NotFound):
            await gateway.list_refunds(
                RefundQuery(merchant_id=other, payment_no=payment.payment_no)
            )

    async def test_all_of_a_merchants_refunds_without_a_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        for _ in range(2):
            payment = await gateway.pay(merchant_id)
            await gateway.refund(payment.payment_no, 100, merchant_id)
        page = await gateway.list_refunds(RefundQuery(merchant_id=merchant_id))
        assert len(page.items) == 2

    async def test_a_limit_outside_1_to_100_is_refused(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        with pytest.raises(ValidationFailed):
            await gateway.list_refunds(RefundQuery(merchant_id=merchant_id, limit=0))


class TestListSettlements:
    async def test_settlements_by_merchant_and_day(self, gateway: Gateway) -> None:
        first, second = await gateway.onboard("A"), await gateway.onboard("B")
        for merchant_id in (first, second):
            await gateway.pay(merchant_id)
        gateway.clock.advance(days=1)
        for merchant_id in (first, second):
            await gateway.settle(SettleCommand(merchant_id=merchant_id, day=START.date()))
        settlements = ListSettlements(gateway.uow)

        [mine] = await settlements(first, START.date())
        assert mine.merchant_id == first
        assert len(await settlements()) == 2
        assert await settlements(first, START.date() + timedelta(days=1)) == []


class TestListWebhooks:
    async def test_events_by_merchant_and_status(self, gateway: Gateway, merchant_id: str) -> None:
        await gateway.pay(merchant_id, notify_url="https://m.example/h")
        await gateway.pay(merchant_id, notify_url="https://m.example/h")
        await gateway.publish_events()
        await gateway.deliver_webhooks()
        await gateway.pay(merchant_id, notify_url="https://m.example/h")
        await gateway.publish_events()
        webhooks = ListWebhooks(gateway.uow)

        assert len(await webhooks(merchant_id)) == 3
        delivered = await webhooks(merchant_id, "delivered")
        assert [e.status for e in delivered] == [DeliveryStatus.DELIVERED] * 2
        assert len(await webhooks(merchant_id, "pending")) == 1
        assert len(await webhooks(merchant_id, limit=1)) == 1
        assert await webhooks("mch_other") == []

    async def test_an_unknown_status_is_refused(self, gateway: Gateway) -> None:
        with pytest.raises(ValidationFailed, match="pending, delivered, dead"):
            await ListWebhooks(gateway.uow)(None, "sent")


class TestListMerchantIds:
    async def test_every_merchant_oldest_first(self, gateway: Gateway) -> None:
        first = await gateway.onboard("A")
        gateway.clock.advance(seconds=1)
        second = await gateway.onboard("B")
        assert await ListMerchantIds(gateway.uow)() == [first, second]


class TestListMerchants:
    async def test_every_merchant_itself_oldest_first(self, gateway: Gateway) -> None:
        first = await gateway.onboard("A")
        gateway.clock.advance(seconds=1)
        second = await gateway.onboard("B")

        listed = await ListMerchants(gateway.uow)()

        assert [(m.merchant_id, m.name) for m in listed] == [(first, "A"), (second, "B")]

    async def test_no_merchant_is_an_empty_list(self, gateway: Gateway) -> None:
        assert await ListMerchants(gateway.uow)() == []
