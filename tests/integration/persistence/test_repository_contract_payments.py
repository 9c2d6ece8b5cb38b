"""The payment repository's contract, on the fakes, SQLite and PostgreSQL alike: keys,
version conflicts, row locks, isolation, paging and filters (`units`, conftest.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from db_builders import T0, captured, later, merchant, payment

from application.errors import ConcurrentUpdate
from application.ports.storage import Cursor, PaymentQuery, UnitOfWorkFactory
from domain.errors import DuplicateOrder
from domain.payment import Payment, PaymentStatus


async def _seed(units: UnitOfWorkFactory, *payments: Payment) -> None:
    async with units() as uow:
        for merchant_id in sorted({p.merchant_id for p in payments} | {"mer_1"}):
            await uow.merchants.add(merchant(merchant_id))
        for p in payments:
            await uow.payments.add(p)
        await uow.commit()


async def _get(units: UnitOfWorkFactory, payment_no: str) -> Payment | None:
    async with units(read_only=True) as uow:
        return await uow.payments.get(payment_no)


async def test_a_payment_reads_back_as_written_and_only_for_its_merchant(
    units: UnitOfWorkFactory,
) -> None:
    written = payment(metadata={"k": "v"}, description="a gift", customer_id="cus_1")
    await _seed(units, written)

    async with units(read_only=True) as uow:
        assert await uow.payments.get(written.payment_no) == written
        assert await uow.payments.get(written.payment_no, "mer_1") == written
        assert await uow.payments.get(written.payment_no, "mer_2") is None
        assert await uow.payments.get_by_order_no("mer_1", written.order_no) == written
        assert await uow.payments.get_by_order_no("mer_2", written.order_no) is None


async def test_an_order_no_is_one_payment_per_merchant_and_the_refusal_names_the_holder(
    units: UnitOfWorkFactory,
) -> None:
    held = payment(order_no="ORDER-X")
    await _seed(units, held, payment("mer_2", order_no="ORDER-X"))

    with pytest.raises(DuplicateOrder) as refused:
        async with units() as uow:
            await uow.payments.add(payment(order_no="ORDER-X"))

    assert refused.value.details == {"order_no": "ORDER-X", "payment_no": held.payment_no}
    async with units(read_only=True) as uow:
        page = await uow.payments.list(PaymentQuery(order_no="ORDER-X"))
    assert sorted(p.merchant_id for p in page.items) == ["mer_1", "mer_2"]


async def test_an_update_advances_the_version_and_a_stale_one_is_a_conflict(
    units: UnitOfWorkFactory,
) -> None:
    stored = payment()
    await _seed(units, stored)
    stale = await _get(units, stored.payment_no)
    assert stale is not None

    async with units() as uow:
        fresh = await uow.payments.get(stored.payment_no, for_update=True)
        assert fresh is not None
        fresh.failure_code = "first"
        await uow.payments.update(fresh)
        await uow.commit()
    stale.failure_code = "second"
    with pytest.raises(ConcurrentUpdate):
        async with units() as uow:
            await uow.payments.update(stale)

    after = await _get(units, stored.payment_no)
    assert after is not None
    assert (fresh.version, after.version, after.failure_code) == (1, 1, "first")


async def test_an_update_of_a_payment_that_is_not_there_is_a_conflict(
    units: UnitOfWorkFactory,
) -> None:
    await _seed(units)

    with pytest.raises(ConcurrentUpdate):
        async with units() as uow:
            await uow.payments.update(payment())


async def test_a_unit_left_without_commit_writes_nothing(units: UnitOfWorkFactory) -> None:
    await _seed(units)
    kept, dropped = payment(), payment()

    async def write_then_fail() -> None:
        async with units() as uow:
            await uow.payments.add(dropped)
            assert await uow.payments.get(dropped.payment_no) == dropped  # its own write
            raise LookupError

    with pytest.raises(LookupError):
        await write_then_fail()
    async with units() as uow:
        await uow.payments.add(kept)
        await uow.commit()

    assert await _get(units, dropped.payment_no) is None
    assert await _get(units, kept.payment_no) == kept


async def test_a_locked_payment_is_read_by_the_next_writer_only_after_the_first_commits(
    units: UnitOfWorkFactory,
) -> None:
    stored = captured(payment())  # refunds reserve captured money only
    await _seed(units, stored)
    locked = asyncio.Event()

    async def first() -> None:
        async with units() as uow:
            mine = await uow.payments.get(stored.payment_no, for_update=True)
            assert mine is not None
            locked.set()
            await asyncio.sleep(0.2)  # the second writer arrives meanwhile
            mine.refund_reserved += 100
            await uow.payments.update(mine)
            await uow.commit()

    async def second() -> int:
        await locked.wait()
        async with units() as uow:
            mine = await uow.payments.get(stored.payment_no, for_update=True)
            assert mine is not None
            seen = mine.refund_reserved
            mine.refund_reserved += 100
            await uow.payments.update(mine)  # no conflict: it read the committed row
            await uow.commit()
            return seen

    _, seen = await asyncio.gather(first(), second())

    after = await _get(units, stored.payment_no)
    assert after is not None
    assert (seen, after.refund_reserved, after.version) == (100, 200, 2)


async def test_pages_go_newest_first_ties_broken_by_the_id_and_end_without_a_cursor(
    units: UnitOfWorkFactory,
) -> None:
    older, tied, newer = payment(created_at=later(-1)), [payment() for _ in range(3)], payment(
        created_at=later(1))
    await _seed(units, older, *tied, newer)

    pages: list[list[str]] = []
    cursors: list[Cursor | None] = []
    async with units(read_only=True) as uow:
        cursor = None
        while not cursors or cursor is not None:
            page = await uow.payments.list(PaymentQuery(limit=2, cursor=cursor))
            pages.append([p.payment_no for p in page.items])
            cursor = page.next_cursor
            cursors.append(cursor)

    ties = sorted((p.payment_no for p in tied), reverse=True)
    assert pages == [[newer.payment_no, ties[0]], ties[1:], [older.payment_no]]
    assert cursors == [Cursor(T0, ties[0]), Cursor(T0, ties[2]), None]


async def test_a_limit_below_one_is_refused(units: UnitOfWorkFactory) -> None:
    await _seed(units)

    with pytest.raises(ValueError, match="limit"):
        async with units(read_only=True) as uow:
            await uow.payments.list(PaymentQuery(limit=0))


async def test_filters_select_by_merchant_status_order_and_a_half_open_time_range(
    units: UnitOfWorkFactory,
) -> None:
    on_time = [payment(created_at=later(s)) for s in (0, 10, 20)]
    other = payment("mer_2", created_at=later(10))
    done = captured(payment(created_at=later(5)))
    await _seed(units, *on_time, other, done)

    async with units(read_only=True) as uow:
        ranged = await uow.payments.list(PaymentQuery(
            merchant_id="mer_1", created_from=later(0), created_to=later(20)))
        succeeded = await uow.payments.list(PaymentQuery(status=PaymentStatus.SUCCEEDED))
        everyone = await uow.payments.list(PaymentQuery(created_from=later(10)))

    assert [p.payment_no for p in ranged.items] == [
        on_time[1].payment_no, done.payment_no, on_time[0].payment_no]
    assert [p.payment_no for p in succeeded.items] == [done.payment_no]
    assert {p.payment_no for p in everyone.items} == {
        on_time[1].payment_no, on_time[2].payment_no, other.payment_no}


async def test_unresolved_payments_are_the_pending_and_processing_ones_oldest_first(
    units: UnitOfWorkFactory,
) -> None:
    pending = [payment(updated_at=later(-60)) for _ in range(2)]
    processing = payment(updated_at=later(-120))
    processing.status = PaymentStatus.PROCESSING
    fresh = payment(updated_at=later(0))
    await _seed(units, *pending, processing, fresh, captured(payment(), at=later(-300)))

    async with units(read_only=True) as uow:
        found = await uow.payments.list_unresolved(later(-30), limit=10)
        first_two = await uow.payments.list_unresolved(later(-30), limit=2)

    ties = sorted(p.payment_no for p in pending)
    assert [p.payment_no for p in found] == [processing.payment_no, *ties]
    assert [p.payment_no for p in first_two] == [processing.payment_no, ties[0]]


async def test_captured_amounts_are_those_of_the_merchants_utc_day(
    units: UnitOfWorkFactory,
) -> None:
    midnight = T0.replace(hour=0, minute=0, second=0, microsecond=0)
    inside = [captured(payment(), at=midnight), captured(payment(), at=midnight + timedelta(
        hours=23, minutes=59, seconds=59))]
    outside = [captured(payment(), at=midnight + timedelta(days=1)),
               captured(payment("mer_2"), at=midnight), payment()]
    await _seed(units, *inside, *outside)

    async with units(read_only=True) as uow:
        amounts = await uow.payments.captured_on("mer_1", midnight.date())

    assert sorted(m.amount for m in amounts) == [10_000, 10_000]
