"""The invariants hold under concurrency because the database enforces them.

Every unit of work here has a connection of its own, as requests served by different
worker processes would: on SQLite a new one each (NullPool); on PostgreSQL one of at most
`POSTGRES_CONNECTIONS`, a worker's pool. Fifty at once would take half of the server's
100, and while other tests hold theirs the server refuses the rest ("too many clients"),
which is not what these tests are about. Twenty transactions still race at any moment.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable

import pytest
from db_builders import captured, failed, merchant, payment
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from adapters.persistence import SqlUnitOfWorkFactory
from application.errors import ConcurrentUpdate
from application.ports.storage import PaymentQuery, RefundQuery
from domain.errors import AmountExceeded, DuplicateOrder
from domain.money import Money
from domain.payment import PaymentStatus

pytestmark = pytest.mark.usefixtures("migrated_url")
CONCURRENCY = 50
POSTGRES_CONNECTIONS = 20


@pytest.fixture
def own_connections(
    engine_factory: Callable[..., AsyncEngine], dialect: str
) -> SqlUnitOfWorkFactory:
    if dialect == "sqlite":
        return SqlUnitOfWorkFactory(engine_factory(poolclass=NullPool, busy_timeout_ms=30_000))
    return SqlUnitOfWorkFactory(engine_factory(
        pool_size=POSTGRES_CONNECTIONS, max_overflow=0, pool_timeout=60.0))


async def _outcomes(attempt: Callable[[int], object]) -> Counter[str]:
    results = await asyncio.gather(
        *(attempt(n) for n in range(CONCURRENCY)),  # type: ignore[misc]
        return_exceptions=True,
    )
    return Counter("ok" if r is None else type(r).__name__ for r in results)


async def test_one_payment_per_order_however_many_arrive_at_once(
    own_connections: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())

    async def create(n: int) -> None:
        async with own_connections() as uow:
            await uow.payments.add(payment(payment_no=f"pay_race_{n:02d}", order_no="ORDER-RACE"))
            await uow.commit()

    outcomes = await _outcomes(create)

    assert outcomes == {"ok": 1, DuplicateOrder.__name__: CONCURRENCY - 1}
    async with own_connections(read_only=True) as uow:
        page = await uow.payments.list(PaymentQuery(merchant_id="mer_1", order_no="ORDER-RACE"))
    assert len(page.items) == 1


async def test_one_new_payment_for_a_failed_order_however_many_retries_arrive_at_once(
    own_connections: SqlUnitOfWorkFactory, seed
) -> None:
    declined = failed(payment(order_no="ORDER-RETRY"))
    await seed(merchant(), declined)

    async def retry(n: int) -> None:
        async with own_connections() as uow:
            await uow.payments.add(payment(payment_no=f"pay_retry_{n:02d}", order_no="ORDER-RETRY"))
            await uow.commit()

    outcomes = await _outcomes(retry)

    assert outcomes == {"ok": 1, DuplicateOrder.__name__: CONCURRENCY - 1}
    async with own_connections(read_only=True) as uow:
        page = await uow.payments.list(PaymentQuery(merchant_id="mer_1", order_no="ORDER-RETRY"))
    assert sorted(p.status.value for p in page.items) == ["failed", "pending"]


async def test_concurrent_refunds_never_exceed_the_payment(
    own_connections: SqlUnitOfWorkFactory, seed
) -> None:
    p = captured(payment(amount=Money(10_000, "USD")))
    await seed(merchant(), p)
    numbers = itertools.count()

    async def refund(_: int) -> None:
        async with own_connections() as uow:
            locked = await uow.payments.get(p.payment_no, for_update=True)
            assert locked is not None
            reserved = locked.reserve_refund(f"ref_race_{next(numbers):02d}", 500, p.updated_at)
            await uow.payments.update(locked)
            await uow.refunds.add(reserved)
            await uow.commit()

    outcomes = await _outcomes(refund)

    assert outcomes == {"ok": 20, AmountExceeded.__name__: 30}
    async with own_connections(read_only=True) as uow:
        stored = await uow.payments.get(p.payment_no)
        refunds = await uow.refunds.list(RefundQuery(payment_no=p.payment_no, limit=100))
    assert stored is not None
    assert stored.refund_reserved == 10_000 == p.amount.amount
    assert sum(r.amount.amount for r in refunds.items) == 10_000
    assert len(refunds.items) == 20


async def test_without_the_row_lock_a_lost_update_becomes_concurrent_update(
    own_connections: SqlUnitOfWorkFactory, seed
) -> None:
    p = payment()
    await seed(merchant(), p)
    async with own_connections(read_only=True) as uow:
        copies = [await uow.payments.get(p.payment_no) for _ in range(10)]

    async def process(n: int) -> None:
        copy = copies[n]
        assert copy is not None
        async with own_connections() as uow:
            copy.start_processing(p.updated_at)
            await uow.payments.update(copy)
            await uow.commit()

    results = await asyncio.gather(*(process(n) for n in range(10)), return_exceptions=True)

    outcomes = Counter("ok" if r is None else type(r).__name__ for r in results)
    assert outcomes == {"ok": 1, ConcurrentUpdate.__name__: 9}
    async with own_connections(read_only=True) as uow:
        stored = await uow.payments.get(p.payment_no)
    assert stored is not None
    assert stored.status is PaymentStatus.PROCESSING
    assert stored.version == 1
