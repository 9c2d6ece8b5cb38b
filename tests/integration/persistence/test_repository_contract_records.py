"""The contract of the other repositories (refunds, ledger, settlements, merchants,
webhook deliveries, the outbox), on the fakes, SQLite and PostgreSQL alike (`units`,
conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from db_builders import T0, captured, delivery, later, merchant, payment
from sqlalchemy.exc import IntegrityError

from application.errors import AlreadySettled, ConcurrentUpdate
from application.ports.events import Announced, DeliveryStatus, OutboxEntry, WebhookDelivery
from application.ports.storage import RefundQuery, UnitOfWorkFactory
from domain.ledger import ACQUIRER_RECEIVABLE, capture_posting, merchant_balance
from domain.payment import Payment
from domain.refund import Refund
from domain.settlement import Settlement


async def _refunds(units: UnitOfWorkFactory, *at: float, key: str | None = None) -> list[Refund]:
    """A captured payment of mer_1 and one 100-unit refund of it per instant in `at`."""
    paid = captured(payment())
    made: list[Refund] = []
    async with units() as uow:
        await uow.merchants.add(merchant())
        await uow.payments.add(paid)
        for n, seconds in enumerate(at):
            refund = paid.reserve_refund(f"ref_{n:03d}", 100, later(seconds))
            refund.request_key = key
            await uow.refunds.add(refund)
            made.append(refund)
        await uow.commit()
    return made


async def test_refunds_page_newest_first_and_are_scoped_to_their_merchant(
    units: UnitOfWorkFactory,
) -> None:
    made = await _refunds(units, 0, 0, 10)

    async with units(read_only=True) as uow:
        first = await uow.refunds.list(RefundQuery(payment_no=made[0].payment_no, limit=2))
        rest = await uow.refunds.list(RefundQuery(limit=2, cursor=first.next_cursor))
        foreign = await uow.refunds.get(made[0].refund_no, "mer_2")

    assert [r.refund_no for r in first.items] == ["ref_002", "ref_001"]
    assert [r.refund_no for r in rest.items] == ["ref_000"]
    assert (rest.next_cursor, foreign) == (None, None)


async def test_a_second_refund_under_one_request_key_of_a_payment_is_refused(
    units: UnitOfWorkFactory,
) -> None:
    # SQL lets its unique index's IntegrityError through; the fake raises ConcurrentUpdate
    with pytest.raises((IntegrityError, ConcurrentUpdate)):
        await _refunds(units, 0, 1, key="mer_1:key-1")

    async with units(read_only=True) as uow:
        assert await uow.refunds.get("ref_000") is None


async def test_pending_refunds_come_oldest_first_and_finished_ones_by_their_utc_day(
    units: UnitOfWorkFactory,
) -> None:
    made = await _refunds(units, -50, -50, -40, 0)
    async with units() as uow:
        made[2].succeed(T0.replace(hour=23, minute=59))
        await uow.refunds.update(made[2])
        await uow.commit()

    async with units(read_only=True) as uow:
        pending = await uow.refunds.list_pending(later(-10), limit=2)
        succeeded = await uow.refunds.succeeded_on("mer_1", T0.date())
        next_day = await uow.refunds.succeeded_on("mer_1", T0.date() + timedelta(days=1))

    assert [r.refund_no for r in pending] == ["ref_000", "ref_001"]
    assert [m.amount for m in succeeded] == [100]
    assert next_day == []


async def test_a_posting_recorded_twice_is_a_concurrent_update_and_balances_add_up(
    units: UnitOfWorkFactory,
) -> None:
    paid: list[Payment] = [captured(payment("mer_1")), captured(payment("mer_2"))]
    async with units() as uow:
        for merchant_id in ("mer_1", "mer_2"):
            await uow.merchants.add(merchant(merchant_id))
        await uow.ledger.append([capture_posting(p, T0) for p in paid])
        await uow.commit()

    with pytest.raises(ConcurrentUpdate):
        async with units() as uow:
            await uow.ledger.append([capture_posting(paid[0], T0)])
    async with units(read_only=True) as uow:
        mine = await uow.ledger.balances("mer_1")
        everyone = await uow.ledger.balances()

    assert mine == {(ACQUIRER_RECEIVABLE, "USD"): 10_000,
                    (merchant_balance("mer_1"), "USD"): -10_000}
    assert everyone[(ACQUIRER_RECEIVABLE, "USD")] == 20_000


def _settlement(merchant_id: str, currency: str, day: date) -> Settlement:
    return Settlement(f"stl_{merchant_id}_{currency}_{day}", merchant_id, currency, day,
                      10_000, 0, 320, 1, 0, T0)


async def test_one_settlement_per_merchant_currency_and_day_listed_by_day_then_currency(
    units: UnitOfWorkFactory,
) -> None:
    day = T0.date()
    made = [_settlement("mer_1", "USD", day + timedelta(days=1)),
            _settlement("mer_1", "USD", day), _settlement("mer_1", "EUR", day),
            _settlement("mer_2", "USD", day)]
    async with units() as uow:
        for merchant_id in ("mer_1", "mer_2"):
            await uow.merchants.add(merchant(merchant_id))
        for settlement in made:
            await uow.settlements.add(settlement)
        await uow.commit()

    with pytest.raises(AlreadySettled):
        async with units() as uow:
            await uow.settlements.add(_settlement("mer_1", "EUR", day))
    async with units(read_only=True) as uow:
        everything = await uow.settlements.list()
        that_day = await uow.settlements.list("mer_1", day)

    assert [s.settlement_id for s in everything] == [
        made[2].settlement_id, made[1].settlement_id, made[3].settlement_id, made[0].settlement_id]
    assert [s.currency for s in that_day] == ["EUR", "USD"]


async def test_merchants_are_found_by_key_switched_off_and_listed_oldest_first(
    units: UnitOfWorkFactory,
) -> None:
    async with units() as uow:
        for merchant_id, created in (("mer_b", T0), ("mer_a", T0), ("mer_c", later(-1))):
            await uow.merchants.add(merchant(merchant_id, created_at=created))
        assert await uow.merchants.set_active("mer_a", False) is True
        assert await uow.merchants.set_active("mer_nope", False) is False
        await uow.commit()

    async with units(read_only=True) as uow:
        by_key = await uow.merchants.get_by_api_key("key_mer_a")
        ids = await uow.merchants.list_ids()
        every = await uow.merchants.list_all()

    assert by_key is not None
    assert (by_key.merchant_id, by_key.active) == ("mer_a", False)
    assert ids == ["mer_c", "mer_a", "mer_b"]
    assert [(m.merchant_id, m.active) for m in every] == [
        ("mer_c", True), ("mer_a", False), ("mer_b", True)]


def _delivery(
    n: int, created_s: float, due_s: float, merchant_id: str = "mer_1"
) -> WebhookDelivery:
    return delivery(n, due_s, merchant_id=merchant_id, created_at=later(created_s))


async def test_due_deliveries_are_leased_and_answered_in_creation_order(
    units: UnitOfWorkFactory,
) -> None:
    deliveries = [_delivery(1, 0, 20), _delivery(2, 10, 5), _delivery(3, 5, 30),
                  _delivery(4, 1, 999)]
    async with units() as uow:
        await uow.merchants.add(merchant())
        await uow.deliveries.add(deliveries)
        await uow.commit()

    async with units() as uow:
        claimed = await uow.deliveries.claim_due(later(100), lease_until=later(400), limit=2)
        await uow.commit()
    async with units() as uow:
        again = await uow.deliveries.claim_due(later(100), lease_until=later(400), limit=10)
        await uow.commit()

    assert [d.delivery_id for d in claimed] == ["dlv_0001", "dlv_0002"]  # the two due first
    assert {d.next_attempt_at for d in claimed} == {later(400)}
    assert [d.delivery_id for d in again] == ["dlv_0003"]


async def test_deliveries_are_listed_newest_first_filtered_and_limited(
    units: UnitOfWorkFactory,
) -> None:
    deliveries = [_delivery(1, 0, 0), _delivery(2, 0, 0), _delivery(3, 5, 0),
                  _delivery(4, 9, 0, "mer_2")]
    deliveries[2].status = DeliveryStatus.DEAD
    async with units() as uow:
        for merchant_id in ("mer_1", "mer_2"):
            await uow.merchants.add(merchant(merchant_id))
        await uow.deliveries.add(deliveries)
        await uow.commit()

    async with units(read_only=True) as uow:
        newest = await uow.deliveries.list(limit=3)
        mine = await uow.deliveries.list("mer_1", DeliveryStatus.PENDING)

    assert [d.delivery_id for d in newest] == ["dlv_0004", "dlv_0003", "dlv_0002"]
    assert [d.delivery_id for d in mine] == ["dlv_0002", "dlv_0001"]


def _announcing(n: int, *types: str) -> OutboxEntry:
    return OutboxEntry("mer_1", tuple(Announced(f"evt_{n}_{t}", t, {"n": n}) for t in types),
                       later(n))


async def test_a_payments_entries_come_back_in_order_and_those_written_after_a_read_stay(
    units: UnitOfWorkFactory,
) -> None:
    """The outbox's contract (docs/adr/0036): an entry is written with its payment's own
    write, read in the order written, and taking what was read leaves what came since."""
    p = payment()
    async with units() as uow:
        await uow.merchants.add(merchant())
        await uow.payments.add(p, announce=_announcing(1, "payment.pending"))
        await uow.commit()
    async with units() as uow:
        await uow.payments.update(p)  # a write that announces nothing
        await uow.payments.update(p, announce=_announcing(2, "payment.processing",
                                                          "payment.succeeded"))
        await uow.commit()
    async with units(read_only=True) as uow:
        read = await uow.outbox.oldest(100)
        assert await uow.outbox.oldest_created_at() == later(1)
    assert [[e.type for e in entry.events] for entry in read] == [
        ["payment.pending"], ["payment.processing", "payment.succeeded"]]

    async with units() as uow:
        await uow.payments.update(p, announce=_announcing(3, "payment.refunded"))
        await uow.commit()
    async with units() as uow:
        await uow.outbox.remove(read)
        await uow.commit()
    async with units(read_only=True) as uow:
        (left,) = await uow.outbox.oldest(100)
    assert [e.event_id for e in left.events] == ["evt_3_payment.refunded"]
    assert (left.merchant_id, left.created_at) == ("mer_1", later(3))
