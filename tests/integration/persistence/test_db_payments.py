"""The payment repository contract, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from db_builders import T0, captured, later, merchant, payment
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlUnitOfWorkFactory
from application.errors import ConcurrentUpdate
from application.ports.storage import PaymentQuery
from domain.errors import DuplicateOrder
from domain.money import Money
from domain.payment import PaymentStatus
from domain.risk import RiskDecision, Verdict

pytestmark = pytest.mark.usefixtures("migrated_url")


async def test_a_payment_reads_back_exactly_as_written(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = captured(
        payment(
            metadata={"cart": "42"},
            description="two mugs",
            notify_url="https://shop.example/hooks",
            customer_id="cus_1",
        )
    )
    p.risk = RiskDecision(Verdict.APPROVE, 12, ("new_card", "velocity_ok"))
    await seed(merchant(), p)

    async with uow_factory(read_only=True) as uow:
        loaded = await uow.payments.get(p.payment_no)

    assert loaded == p
    assert loaded is not None
    assert loaded.captured_at is not None
    assert loaded.created_at.tzinfo is UTC
    assert loaded.captured_at.tzinfo is UTC


async def test_instants_in_other_zones_come_back_as_the_same_utc_instant(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    tokyo = datetime(2026, 11, 24, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    await seed(merchant(), payment(payment_no="pay_tokyo", created_at=tokyo, updated_at=tokyo))

    async with uow_factory(read_only=True) as uow:
        loaded = await uow.payments.get("pay_tokyo")

    assert loaded is not None
    assert loaded.created_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert loaded.created_at.utcoffset() == timedelta(0)


async def test_lookups_are_scoped_to_the_merchant(uow_factory: SqlUnitOfWorkFactory, seed) -> None:
    p = payment(order_no="ORDER-A")
    await seed(merchant("mer_1"), merchant("mer_2"), p)

    async with uow_factory(read_only=True) as uow:
        own = await uow.payments.get(p.payment_no, "mer_1")
        foreign = await uow.payments.get(p.payment_no, "mer_2")
        by_order = await uow.payments.get_by_order_no("mer_1", "ORDER-A")
        other_order = await uow.payments.get_by_order_no("mer_2", "ORDER-A")
        missing = await uow.payments.get("pay_missing")

    assert own == p
    assert by_order == p
    assert foreign is None
    assert other_order is None
    assert missing is None


async def test_a_second_payment_for_an_order_is_a_duplicate_and_the_unit_goes_on(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    held = payment(order_no="ORDER-1")
    await seed(merchant(), held)

    async with uow_factory() as uow:
        with pytest.raises(DuplicateOrder) as refused:
            await uow.payments.add(payment(order_no="ORDER-1"))
        assert refused.value.details == {"order_no": "ORDER-1", "payment_no": held.payment_no}
        await uow.payments.add(payment(payment_no="pay_other", order_no="ORDER-2"))
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        page = await uow.payments.list(PaymentQuery(merchant_id="mer_1"))
    assert sorted(p.order_no for p in page.items) == ["ORDER-1", "ORDER-2"]


async def test_another_merchant_may_use_the_same_order_no(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(
        merchant("mer_1"),
        merchant("mer_2"),
        payment("mer_1", order_no="SAME"),
        payment("mer_2", order_no="SAME"),
    )

    async with uow_factory(read_only=True) as uow:
        assert await uow.payments.get_by_order_no("mer_2", "SAME") is not None


async def test_update_writes_back_and_advances_the_version(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = payment()
    await seed(merchant(), p)

    async with uow_factory() as uow:
        loaded = await uow.payments.get(p.payment_no, for_update=True)
        assert loaded is not None
        captured(loaded, later(5))
        await uow.payments.update(loaded)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        again = await uow.payments.get(p.payment_no)
    assert again == loaded
    assert again is not None
    assert again.version == 1
    assert again.status is PaymentStatus.SUCCEEDED


async def test_an_update_from_a_stale_read_is_refused(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = payment()
    await seed(merchant(), p)
    async with uow_factory(read_only=True) as uow:
        first, second = await uow.payments.get(p.payment_no), await uow.payments.get(p.payment_no)
    assert first is not None
    assert second is not None

    async with uow_factory() as uow:
        first.start_processing(later(1))
        await uow.payments.update(first)
        await uow.commit()
    async with uow_factory() as uow:
        second.apply_risk(RiskDecision(Verdict.REJECT, 90), later(2))
        with pytest.raises(ConcurrentUpdate):
            await uow.payments.update(second)

    async with uow_factory(read_only=True) as uow:
        stored = await uow.payments.get(p.payment_no)
    assert stored is not None
    assert stored.status is PaymentStatus.PROCESSING
    assert stored.version == 1
    assert second.version == 0


async def test_the_database_refuses_reserving_more_than_the_amount(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = payment()
    await seed(merchant(), p)

    async with uow_factory() as uow:
        p.refund_reserved = p.amount.amount + 1
        with pytest.raises(IntegrityError):
            await uow.payments.update(p)


async def test_listing_pages_newest_first_and_is_stable_on_equal_timestamps(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    same = [payment(created_at=T0) for _ in range(12)]
    newer = [payment(created_at=later(i + 1)) for i in range(3)]
    await seed(merchant(), *same, *newer)

    seen, cursor = [], None
    async with uow_factory(read_only=True) as uow:
        while True:
            page = await uow.payments.list(
                PaymentQuery(merchant_id="mer_1", limit=4, cursor=cursor)
            )
            seen += page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor

    expected = sorted(same + newer, key=lambda p: (p.created_at, p.payment_no), reverse=True)
    assert [p.payment_no for p in seen] == [p.payment_no for p in expected]


async def test_a_full_last_page_has_no_next_cursor(uow_factory: SqlUnitOfWorkFactory, seed) -> None:
    await seed(merchant(), *(payment() for _ in range(4)))

    async with uow_factory(read_only=True) as uow:
        page = await uow.payments.list(PaymentQuery(merchant_id="mer_1", limit=4))

    assert len(page.items) == 4
    assert page.next_cursor is None


async def test_listing_filters_by_merchant_status_order_and_creation_range(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    early = payment(created_at=later(-60))
    done = captured(payment(created_at=later(0)))
    late = payment(order_no="LATE", created_at=later(60))
    foreign = payment("mer_2", created_at=later(0))
    await seed(merchant("mer_1"), merchant("mer_2"), early, done, late, foreign)

    async def nos(**filters: object) -> list[str]:
        async with uow_factory(read_only=True) as uow:
            page = await uow.payments.list(PaymentQuery(**filters))  # type: ignore[arg-type]
        return [p.payment_no for p in page.items]

    assert await nos(merchant_id="mer_1") == [late.payment_no, done.payment_no, early.payment_no]
    assert await nos(merchant_id="mer_1", status=PaymentStatus.SUCCEEDED) == [done.payment_no]
    assert await nos(merchant_id="mer_1", order_no="LATE") == [late.payment_no]
    assert await nos(merchant_id="mer_1", created_from=later(0), created_to=later(60)) == [
        done.payment_no
    ]
    assert len(await nos()) == 4


async def test_unresolved_payments_are_listed_oldest_first(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    pending = payment(updated_at=later(10))
    processing = payment(updated_at=later(5))
    processing.start_processing(later(5))
    recent = payment(updated_at=later(100))
    succeeded = captured(payment(), later(1))
    await seed(merchant(), pending, processing, recent, succeeded)

    async with uow_factory(read_only=True) as uow:
        unresolved = await uow.payments.list_unresolved(later(50), limit=10)
        first = await uow.payments.list_unresolved(later(50), limit=1)

    assert [p.payment_no for p in unresolved] == [processing.payment_no, pending.payment_no]
    assert [p.payment_no for p in first] == [processing.payment_no]


async def test_unresolved_payments_are_counted_by_status_since_a_moment(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    pending = payment(updated_at=later(10))
    processing = payment(updated_at=later(50))
    processing.start_processing(later(50))
    succeeded = captured(payment(), later(60))
    await seed(merchant(), pending, processing, succeeded)

    async with uow_factory(read_only=True) as uow:
        every = await uow.payments.count_unresolved()
        since_49 = await uow.payments.count_unresolved(updated_from=later(49))
        after = await uow.payments.count_unresolved(updated_from=later(51))

    assert every == {"pending": 1, "processing": 1}
    assert since_49 == {"processing": 1}
    assert after == {}


async def test_captured_on_sums_nothing_outside_the_utc_day(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    midnight = datetime(2026, 11, 24, tzinfo=UTC)
    inside = captured(payment(), midnight - timedelta(microseconds=1))
    next_day = captured(payment(amount=Money(7, "EUR")), midnight)
    foreign = captured(payment("mer_2"), T0)
    await seed(merchant("mer_1"), merchant("mer_2"), inside, next_day, foreign)

    async with uow_factory(read_only=True) as uow:
        day = await uow.payments.captured_on("mer_1", date(2026, 11, 23))
        after = await uow.payments.captured_on("mer_1", date(2026, 11, 24))

    assert day == [inside.amount]
    assert after == [next_day.amount]


async def test_a_payment_without_its_merchant_is_refused(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(IntegrityError):
            await uow.payments.add(payment("mer_unknown"))


async def test_money_is_minor_units_and_absent_json_is_sql_null(
    uow_factory: SqlUnitOfWorkFactory, engine: AsyncEngine, seed
) -> None:
    p = payment(amount=Money(2**53 + 1, "JPY"), metadata={"note": "café ☕", "empty": ""})
    await seed(merchant(), p)

    async with engine.connect() as conn:  # the raw row, as an operator sees it
        row = (
            await conn.execute(
                text(
                    "SELECT currency, amount, risk_reasons IS NULL FROM payments"
                    " WHERE payment_no = :p"
                ),
                {"p": p.payment_no},
            )
        ).one()
    async with uow_factory(read_only=True) as uow:
        loaded = await uow.payments.get(p.payment_no)

    assert tuple(row) == ("JPY", 2**53 + 1, True)  # no risk yet: SQL NULL, not JSON null
    assert loaded is not None
    assert loaded.metadata == {"note": "café ☕", "empty": ""}
