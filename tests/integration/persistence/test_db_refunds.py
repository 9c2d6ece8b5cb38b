"""The refund repository contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from db_builders import T0, captured, later, merchant, payment
from sqlalchemy.exc import IntegrityError

from adapters.persistence import SqlUnitOfWorkFactory
from application.ports.storage import RefundQuery
from domain.payment import Payment
from domain.refund import Refund, RefundStatus

pytestmark = pytest.mark.usefixtures("migrated_url")
_refund_numbers = itertools.count(1)


async def _refunds(
    uow_factory: SqlUnitOfWorkFactory, p: Payment, *amounts: int, at: datetime = T0
) -> list[Refund]:
    """Reserve and record one refund per amount, the way the refund use case does."""
    made = []
    async with uow_factory() as uow:
        locked = await uow.payments.get(p.payment_no, for_update=True)
        assert locked is not None
        for amount in amounts:
            refund = locked.reserve_refund(f"ref_{next(_refund_numbers):06d}", amount, at)
            await uow.refunds.add(refund)
            made.append(refund)
        await uow.payments.update(locked)
        await uow.commit()
    return made


async def test_a_refund_reads_back_exactly_as_written(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = captured(payment())
    await seed(merchant(), p)
    (refund,) = await _refunds(uow_factory, p, 2_500)

    async with uow_factory(read_only=True) as uow:
        loaded = await uow.refunds.get(refund.refund_no)
        own = await uow.refunds.get(refund.refund_no, "mer_1")
        foreign = await uow.refunds.get(refund.refund_no, "mer_2")
        stored_payment = await uow.payments.get(p.payment_no)

    assert loaded == refund == own
    assert foreign is None
    assert stored_payment is not None
    assert stored_payment.refund_reserved == 2_500


async def test_a_finished_refund_is_written_back(uow_factory: SqlUnitOfWorkFactory, seed) -> None:
    p = captured(payment())
    await seed(merchant(), p)
    ok, failed = await _refunds(uow_factory, p, 1_000, 2_000)

    async with uow_factory() as uow:
        ok.succeed(later(5), reference="re_1")
        failed.fail(later(6), "processing_error")
        await uow.refunds.update(ok)
        await uow.refunds.update(failed)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        assert await uow.refunds.get(ok.refund_no) == ok
        assert await uow.refunds.get(failed.refund_no) == failed


async def test_refunds_list_newest_first_by_payment_and_status(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    first, second = captured(payment()), captured(payment())
    await seed(merchant(), first, second)
    older = await _refunds(uow_factory, first, 100, 200, 300, at=T0)
    newer = await _refunds(uow_factory, first, 400, at=later(1))
    other = await _refunds(uow_factory, second, 500, at=later(2))

    pages, cursor = [], None
    async with uow_factory(read_only=True) as uow:
        while True:
            page = await uow.refunds.list(
                RefundQuery(payment_no=first.payment_no, limit=2, cursor=cursor)
            )
            pages.append([r.refund_no for r in page.items])
            if (cursor := page.next_cursor) is None:
                break
        everything = await uow.refunds.list(RefundQuery(merchant_id="mer_1"))
        succeeded = await uow.refunds.list(RefundQuery(status=RefundStatus.SUCCEEDED))

    by_id_desc = sorted((r.refund_no for r in older), reverse=True)
    assert pages == [[newer[0].refund_no, by_id_desc[0]], by_id_desc[1:]]
    assert next(r.refund_no for r in everything.items) == other[0].refund_no
    assert len(everything.items) == 5
    assert succeeded.items == []


async def test_pending_refunds_are_listed_oldest_first(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = captured(payment())
    await seed(merchant(), p)
    old = await _refunds(uow_factory, p, 100, at=later(1))
    recent = await _refunds(uow_factory, p, 100, at=later(100))
    done = await _refunds(uow_factory, p, 100, at=later(0))
    async with uow_factory() as uow:
        done[0].succeed(later(0))
        await uow.refunds.update(done[0])
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        pending = await uow.refunds.list_pending(later(50), limit=10)

    assert [r.refund_no for r in pending] == [old[0].refund_no]
    assert recent[0].status is RefundStatus.PENDING


async def test_pending_refunds_are_counted_since_a_moment(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = captured(payment())
    await seed(merchant(), p)
    await _refunds(uow_factory, p, 100, at=later(10))
    await _refunds(uow_factory, p, 200, at=later(20))

    async with uow_factory(read_only=True) as uow:
        counts = [await uow.refunds.count_pending(),
                  await uow.refunds.count_pending(updated_from=later(19)),
                  await uow.refunds.count_pending(updated_from=later(21))]

    assert counts == [2, 1, 0]


async def test_succeeded_on_counts_refunds_completed_that_utc_day(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = captured(payment())
    await seed(merchant(), p)
    today, tomorrow, failed = await _refunds(uow_factory, p, 100, 200, 300)
    async with uow_factory() as uow:
        today.succeed(datetime(2026, 11, 23, 23, 59, tzinfo=UTC))
        tomorrow.succeed(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
        failed.fail(later(1), "declined")
        for refund in (today, tomorrow, failed):
            await uow.refunds.update(refund)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        day = await uow.refunds.succeeded_on("mer_1", date(2026, 11, 23))
        other_merchant = await uow.refunds.succeeded_on("mer_2", date(2026, 11, 23))

    assert day == [today.amount]
    assert other_merchant == []


async def test_a_refund_is_found_by_its_request_key_within_its_payment_only(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p, other = captured(payment()), captured(payment(payment_no="pay_other"))
    await seed(merchant(), p, other)
    async with uow_factory() as uow:
        locked = await uow.payments.get(p.payment_no, for_update=True)
        assert locked is not None
        refund = locked.reserve_refund("ref_keyed", 1_000, T0)
        refund.request_key = "mer_1:key-1"
        await uow.refunds.add(refund)
        await uow.payments.update(locked)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        assert await uow.refunds.get_by_request_key(p.payment_no, "mer_1:key-1") == refund
        assert await uow.refunds.get_by_request_key(p.payment_no, "mer_1:key-2") is None
        assert await uow.refunds.get_by_request_key("pay_other", "mer_1:key-1") is None


async def test_the_database_refuses_a_second_refund_under_one_request_key(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    """The backstop under the use case's look-up: the unique index."""
    p = captured(payment())
    await seed(merchant(), p)

    async def two_refunds_under_one_key() -> None:
        async with uow_factory() as uow:
            locked = await uow.payments.get(p.payment_no, for_update=True)
            assert locked is not None
            for number in ("ref_a", "ref_b"):
                refund = locked.reserve_refund(number, 1_000, T0)
                refund.request_key = "mer_1:key-1"
                await uow.refunds.add(refund)
            await uow.commit()

    with pytest.raises(IntegrityError, match=r"(?i)unique|duplicate"):
        await two_refunds_under_one_key()
    async with uow_factory(read_only=True) as uow:
        assert await uow.refunds.get("ref_a") is None
