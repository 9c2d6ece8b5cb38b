"""Used signatures, on SQLite and PostgreSQL: one spend per signature across engines (as
across processes), the same Idempotency-Key let through, release, and pruning."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from db_builders import T0
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlUnitOfWorkFactory
from adapters.persistence.schema import used_signatures
from adapters.persistence.signatures import SqlUsedSignatures

pytestmark = pytest.mark.usefixtures("migrated_url")
EXPIRES = T0 + timedelta(seconds=360)


def store_on(engine: AsyncEngine) -> SqlUsedSignatures:
    return SqlUsedSignatures(engine, SqlUnitOfWorkFactory(engine))


@pytest.fixture
def store(engine: AsyncEngine) -> SqlUsedSignatures:
    return store_on(engine)


async def test_a_signature_is_spent_once(store: SqlUsedSignatures) -> None:
    assert await store.spend("mer_1", "sig-a", None, EXPIRES) is True
    assert await store.spend("mer_1", "sig-a", None, EXPIRES) is False


async def test_signatures_are_spent_per_merchant(store: SqlUsedSignatures) -> None:
    assert await store.spend("mer_1", "sig-a", None, EXPIRES) is True
    assert await store.spend("mer_2", "sig-a", None, EXPIRES) is True


async def test_the_same_idempotency_key_passes_again_and_another_or_none_does_not(
    store: SqlUsedSignatures,
) -> None:
    assert await store.spend("mer_1", "sig-a", "key-1", EXPIRES) is True

    assert await store.spend("mer_1", "sig-a", "key-1", EXPIRES) is True
    assert await store.spend("mer_1", "sig-a", "key-2", EXPIRES) is False
    assert await store.spend("mer_1", "sig-a", None, EXPIRES) is False


async def test_a_key_added_to_a_request_spent_without_one_is_refused(
    store: SqlUsedSignatures,
) -> None:
    assert await store.spend("mer_1", "sig-a", None, EXPIRES) is True

    assert await store.spend("mer_1", "sig-a", "key-new", EXPIRES) is False


async def test_engines_racing_for_one_signature_let_exactly_one_through(
    engine_factory: Callable[..., AsyncEngine],
) -> None:
    stores = [store_on(engine_factory()) for _ in range(4)]

    outcomes = await asyncio.gather(
        *(s.spend("mer_1", "sig-race", None, EXPIRES) for s in stores for _ in range(5)))

    assert outcomes.count(True) == 1


async def test_a_released_signature_may_be_spent_again(store: SqlUsedSignatures) -> None:
    await store.spend("mer_1", "sig-a", None, EXPIRES)

    await store.release("mer_1", "sig-a")

    assert await store.spend("mer_1", "sig-a", None, EXPIRES) is True


async def test_purging_deletes_expired_signatures_only_a_batch_at_a_time(
    store: SqlUsedSignatures, engine: AsyncEngine,
) -> None:
    for n in range(5):
        await store.spend("mer_1", f"old-{n}", None, T0 + timedelta(seconds=n))
    await store.spend("mer_1", "live", None, T0 + timedelta(hours=1))

    first = await store.purge_expired(T0 + timedelta(seconds=10), 3)
    second = await store.purge_expired(T0 + timedelta(seconds=10), 3)

    assert (first, second) == (3, 2)
    async with engine.connect() as conn:
        left = (await conn.execute(select(func.count()).select_from(used_signatures))).scalar()
    assert left == 1
    assert await store.spend("mer_1", "live", None, EXPIRES) is False
