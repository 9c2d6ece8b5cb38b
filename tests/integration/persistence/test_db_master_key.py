"""One master key per database, on SQLite and PostgreSQL: the fingerprint on record, the
check every process makes, and the rotation that re-seals every secret under a new key."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest
from db_builders import T0, merchant
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlIdempotencyStore, SqlUnitOfWorkFactory
from adapters.persistence.schema import idempotency_keys, merchants
from adapters.persistence.sealing import KeyRecord, SqlSealingKey
from adapters.platform.vault import AesGcmVault, key_fingerprint
from application.ports.storage import StoredResponse
from entrypoints.master_key import NothingToRotate, checked_record, master_key_check, rotate
from entrypoints.settings import ConfigurationError

pytestmark = pytest.mark.usefixtures("migrated_url")
OLD, NEW = os.urandom(32), os.urandom(32)


@pytest.fixture
def store(engine: AsyncEngine) -> SqlSealingKey:
    return SqlSealingKey(engine)


async def _merchants_sealed_by(uow: SqlUnitOfWorkFactory, vault: AesGcmVault, n: int) -> None:
    async with uow() as unit:
        for i in range(n):
            await unit.merchants.add(merchant(
                f"mer_{i}", api_secret_sealed=vault.seal(f"api-{i}"),
                webhook_secret_sealed=vault.seal(f"hook-{i}")))
        await unit.commit()


async def _sealed_values(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(
            merchants.c.api_secret_sealed, merchants.c.webhook_secret_sealed))).all()
    return [value for row in rows for value in row]


async def test_the_first_process_records_its_key_and_the_same_key_passes_again(
    store: SqlSealingKey,
) -> None:
    first = await checked_record(store, AesGcmVault(OLD))
    again = await checked_record(store, AesGcmVault(OLD))

    assert first.fingerprint == again.fingerprint == key_fingerprint(OLD)
    assert (await store.recorded()) == first


async def test_a_process_with_another_key_is_refused_naming_both_keys(
    store: SqlSealingKey,
) -> None:
    await checked_record(store, AesGcmVault(OLD))

    with pytest.raises(ConfigurationError, match="not the key") as refused:
        await checked_record(store, AesGcmVault(NEW))

    assert key_fingerprint(OLD)[:16] in str(refused.value)
    assert key_fingerprint(NEW)[:16] in str(refused.value)
    assert base64.b64encode(NEW).decode() not in str(refused.value)


async def test_two_processes_starting_together_with_different_keys_record_one_of_them(
    store: SqlSealingKey,
) -> None:
    outcomes = await asyncio.gather(
        checked_record(store, AesGcmVault(OLD)), checked_record(store, AesGcmVault(NEW)),
        return_exceptions=True)

    assert sum(isinstance(o, ConfigurationError) for o in outcomes) == 1
    assert (await store.recorded()) is not None


async def test_a_database_sealed_before_records_existed_records_the_key_that_opens_it(
    store: SqlSealingKey, uow_factory: SqlUnitOfWorkFactory,
) -> None:
    await _merchants_sealed_by(uow_factory, AesGcmVault(OLD), 1)

    with pytest.raises(ConfigurationError, match="does not open"):
        await checked_record(store, AesGcmVault(NEW))
    assert await store.recorded() is None

    record = await checked_record(store, AesGcmVault(OLD))
    assert record.fingerprint == key_fingerprint(OLD)


async def test_a_process_holding_the_recorded_key_as_its_previous_one_may_start(
    store: SqlSealingKey,
) -> None:
    await checked_record(store, AesGcmVault(OLD))

    record = await checked_record(store, AesGcmVault(NEW, OLD))

    assert record.fingerprint == key_fingerprint(OLD)


async def test_rotation_reseals_every_secret_under_the_new_key_and_records_it(
    store: SqlSealingKey, uow_factory: SqlUnitOfWorkFactory, engine: AsyncEngine,
) -> None:
    old = AesGcmVault(OLD)
    await checked_record(store, old)
    await _merchants_sealed_by(uow_factory, old, 450)  # more than one batch of 200

    done = await rotate(store, AesGcmVault(NEW, OLD))

    assert done["resealed"] == {"merchants.api_secret_sealed": 450,
                                "merchants.webhook_secret_sealed": 450,
                                "idempotency_keys.response_body": 0}
    assert (await store.recorded()).fingerprint == key_fingerprint(NEW)  # type: ignore[union-attr]
    values = await _sealed_values(engine)
    new_only = AesGcmVault(NEW)
    assert all(v.startswith(new_only.sealing_prefix) for v in values)
    assert sorted(new_only.open(v) for v in values) == sorted(
        [f"api-{i}" for i in range(450)] + [f"hook-{i}" for i in range(450)])
    with pytest.raises(ConfigurationError):
        await checked_record(store, old)


async def test_rotation_reseals_stored_replays_that_hold_secrets_and_leaves_plain_ones(
    store: SqlSealingKey, engine: AsyncEngine,
) -> None:
    old = AesGcmVault(OLD)
    await checked_record(store, old)
    replays = SqlIdempotencyStore(engine)
    sealed = StoredResponse(201, old.seal('{"api_secret": "s"}').encode(),
                            {"Paygate-Sealed": "vault"})
    plain = StoredResponse(201, b'{"payment_no": "pay_1"}', {})
    for key, response in (("k-sealed", sealed), ("k-plain", plain)):
        await replays.begin("admin", key, "fp", T0)
        await replays.complete("admin", key, response, T0)

    done = await rotate(store, AesGcmVault(NEW, OLD))

    assert done["resealed"]["idempotency_keys.response_body"] == 1
    async with engine.connect() as conn:
        bodies = dict((await conn.execute(
            select(idempotency_keys.c.key, idempotency_keys.c.response_body))).all())
    assert AesGcmVault(NEW).open(bytes(bodies["k-sealed"]).decode()) == '{"api_secret": "s"}'
    assert bytes(bodies["k-plain"]) == b'{"payment_no": "pay_1"}'


async def test_rotating_again_reseals_nothing_and_keeps_the_record(
    store: SqlSealingKey, uow_factory: SqlUnitOfWorkFactory,
) -> None:
    await checked_record(store, AesGcmVault(OLD))
    await _merchants_sealed_by(uow_factory, AesGcmVault(OLD), 3)
    await rotate(store, AesGcmVault(NEW, OLD))

    again = await rotate(store, AesGcmVault(NEW, OLD))

    assert set(again["resealed"].values()) == {0}
    assert (await store.recorded()).fingerprint == key_fingerprint(NEW)  # type: ignore[union-attr]


@pytest.mark.parametrize("vault", [AesGcmVault(OLD), AesGcmVault(OLD, NEW)],
                         ids=["only-the-recorded-key", "new-key-given-as-previous"])
async def test_rotating_to_the_recorded_key_from_no_key_it_moved_from_is_refused(
    store: SqlSealingKey, uow_factory: SqlUnitOfWorkFactory, engine: AsyncEngine,
    vault: AesGcmVault,
) -> None:
    await checked_record(store, AesGcmVault(OLD))
    await _merchants_sealed_by(uow_factory, AesGcmVault(OLD), 2)
    before = await _sealed_values(engine)

    with pytest.raises(NothingToRotate, match="PAYGATE_PREVIOUS_MASTER_KEY"):
        await rotate(store, vault)

    assert await _sealed_values(engine) == before
    assert await store.recorded() == KeyRecord(key_fingerprint(OLD))


async def test_a_value_no_key_opens_is_counted_and_left_as_it_is(
    store: SqlSealingKey, uow_factory: SqlUnitOfWorkFactory, engine: AsyncEngine,
) -> None:
    await checked_record(store, AesGcmVault(OLD))
    stranger = AesGcmVault(os.urandom(32)).seal("lost")
    async with uow_factory() as unit:
        await unit.merchants.add(merchant("mer_x", api_secret_sealed=stranger,
                                          webhook_secret_sealed=AesGcmVault(OLD).seal("h")))
        await unit.commit()

    done = await rotate(store, AesGcmVault(NEW, OLD))

    assert done["not_opened"] == {"merchants.api_secret_sealed": 1}
    assert stranger in await _sealed_values(engine)


async def test_rotation_without_the_recorded_key_is_refused_and_changes_nothing(
    store: SqlSealingKey, uow_factory: SqlUnitOfWorkFactory, engine: AsyncEngine,
) -> None:
    await checked_record(store, AesGcmVault(OLD))
    await _merchants_sealed_by(uow_factory, AesGcmVault(OLD), 2)
    before = await _sealed_values(engine)

    with pytest.raises(ConfigurationError):
        await rotate(store, AesGcmVault(NEW))

    assert await _sealed_values(engine) == before
    assert (await store.recorded()).fingerprint == key_fingerprint(OLD)  # type: ignore[union-attr]


async def test_readiness_fails_once_the_database_moved_to_a_key_this_process_lacks(
    store: SqlSealingKey, engine: AsyncEngine,
) -> None:
    check = master_key_check(engine, AesGcmVault(OLD))
    assert (await check())[0] is True  # nothing recorded yet
    await checked_record(store, AesGcmVault(OLD))
    assert (await check())[0] is True

    await rotate(store, AesGcmVault(NEW, OLD))

    ok, detail = await check()
    assert not ok
    assert key_fingerprint(NEW)[:16] in detail
