"""The idempotency store contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from db_builders import T0
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from adapters.persistence import SqlIdempotencyStore, create_engine
from application.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from application.ports.storage import StoredResponse

pytestmark = pytest.mark.usefixtures("migrated_url")
CREATED = StoredResponse(201, b'{"payment_no": "pay_1"}', {"Content-Type": "application/json"})


@pytest.fixture
def store(engine: AsyncEngine) -> SqlIdempotencyStore:
    return SqlIdempotencyStore(engine, lease=timedelta(seconds=60))


async def test_the_first_request_claims_the_key_and_its_response_is_replayed(
    store: SqlIdempotencyStore,
) -> None:
    assert await store.begin("mer_1", "key-1", "fp-a", T0) is None
    await store.complete("mer_1", "key-1", CREATED, T0)

    assert await store.begin("mer_1", "key-1", "fp-a", T0 + timedelta(hours=1)) == CREATED


async def test_keys_are_scoped_per_merchant(store: SqlIdempotencyStore) -> None:
    assert await store.begin("mer_1", "key-1", "fp-a", T0) is None
    assert await store.begin("mer_2", "key-1", "fp-b", T0) is None


async def test_the_same_key_with_another_body_is_reused(store: SqlIdempotencyStore) -> None:
    await store.begin("mer_1", "key-1", "fp-a", T0)
    await store.complete("mer_1", "key-1", CREATED, T0)

    with pytest.raises(IdempotencyKeyReused):
        await store.begin("mer_1", "key-1", "fp-b", T0)


async def test_the_same_key_while_the_first_request_runs_is_in_use(
    store: SqlIdempotencyStore,
) -> None:
    await store.begin("mer_1", "key-1", "fp-a", T0)

    with pytest.raises(IdempotencyKeyInUse):
        await store.begin("mer_1", "key-1", "fp-a", T0 + timedelta(seconds=59))
    with pytest.raises(IdempotencyKeyReused):
        await store.begin("mer_1", "key-1", "fp-b", T0 + timedelta(seconds=59))


async def test_a_claim_older_than_the_lease_is_taken_over(store: SqlIdempotencyStore) -> None:
    await store.begin("mer_1", "key-1", "fp-a", T0)

    assert await store.begin("mer_1", "key-1", "fp-a", T0 + timedelta(seconds=60)) is None
    with pytest.raises(IdempotencyKeyInUse):  # the new claim has a fresh lease
        await store.begin("mer_1", "key-1", "fp-a", T0 + timedelta(seconds=61))


async def test_a_dead_claim_is_not_taken_over_with_another_body(
    store: SqlIdempotencyStore,
) -> None:
    await store.begin("mer_1", "key-1", "fp-a", T0)

    with pytest.raises(IdempotencyKeyReused):
        await store.begin("mer_1", "key-1", "fp-b", T0 + timedelta(minutes=5))


async def test_an_expired_key_counts_as_absent(store: SqlIdempotencyStore) -> None:
    await store.begin("mer_1", "key-1", "fp-a", T0)
    await store.complete("mer_1", "key-1", CREATED, T0)
    next_day = T0 + timedelta(hours=24)

    assert await store.begin("mer_1", "key-1", "fp-b", next_day) is None
    with pytest.raises(IdempotencyKeyInUse):
        await store.begin("mer_1", "key-1", "fp-b", next_day)


async def test_a_released_key_can_be_claimed_again(store: SqlIdempotencyStore) -> None:
    await store.begin("mer_1", "key-1", "fp-a", T0)
    await store.release("mer_1", "key-1")

    assert await store.begin("mer_1", "key-1", "fp-b", T0) is None


async def test_release_never_drops_a_completed_response(store: SqlIdempotencyStore) -> None:
    await store.begin("mer_1", "key-1", "fp-a", T0)
    await store.complete("mer_1", "key-1", CREATED, T0)
    await store.release("mer_1", "key-1")

    assert await store.begin("mer_1", "key-1", "fp-a", T0) == CREATED


async def test_purging_removes_only_expired_keys(store: SqlIdempotencyStore) -> None:
    await store.begin("mer_1", "old", "fp", T0)
    await store.begin("mer_1", "new", "fp", T0 + timedelta(hours=2))

    assert await store.purge_expired(T0 + timedelta(hours=25), limit=10) == 1
    with pytest.raises(IdempotencyKeyInUse):
        await store.begin("mer_1", "new", "fp", T0 + timedelta(hours=2, seconds=1))


async def test_purging_goes_in_batches_and_reports_each(store: SqlIdempotencyStore) -> None:
    for n in range(5):
        await store.begin("mer_1", f"old-{n}", "fp", T0)
    await store.begin("mer_2", "new", "fp", T0 + timedelta(hours=2))
    later = T0 + timedelta(hours=25)

    assert [await store.purge_expired(later, limit=2) for _ in range(4)] == [2, 2, 1, 0]
    with pytest.raises(IdempotencyKeyInUse):
        await store.begin("mer_2", "new", "fp", T0 + timedelta(hours=2, seconds=1))


async def test_workers_purging_at_once_share_the_keys_without_waiting_on_each_other(
    migrated_url: str,
) -> None:
    engines = [
        create_engine(migrated_url, poolclass=NullPool, busy_timeout_ms=30_000) for _ in range(3)
    ]  # as three worker processes would
    stores = [SqlIdempotencyStore(engine) for engine in engines]
    later = T0 + timedelta(hours=25)

    async def drain(store: SqlIdempotencyStore) -> int:
        purged = 0
        while batch := await store.purge_expired(later, limit=4):
            purged += batch
        return purged

    try:
        for n in range(60):
            await stores[0].begin("mer_1", f"old-{n}", "fp", T0)
        totals = await asyncio.wait_for(asyncio.gather(*(drain(s) for s in stores)), 60)
        assert sum(totals) == 60
        assert await stores[1].purge_expired(later, limit=100) == 0
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))


async def test_racing_requests_with_one_key_run_exactly_once(migrated_url: str) -> None:
    engines = [
        create_engine(migrated_url, poolclass=NullPool, busy_timeout_ms=30_000) for _ in range(4)
    ]  # as four worker processes would
    stores = [SqlIdempotencyStore(engine) for engine in engines]
    try:
        results = await asyncio.gather(
            *(stores[n % 4].begin("mer_1", "key-1", "fp-a", T0) for n in range(20)),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))

    outcomes = Counter("claimed" if r is None else type(r).__name__ for r in results)
    assert outcomes == {"claimed": 1, IdempotencyKeyInUse.__name__: 19}
