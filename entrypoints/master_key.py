"""One master key per database: checked at start-up and by readiness, rotated online.

The database records the fingerprint of the key its secrets are sealed with; the first
process to find no record writes the one its key (or, on a database sealed before records
existed, the key that opens its secrets) gives. A process holding neither that key nor it
as its previous key refuses to start: it would answer `500`s for the merchants it cannot
open and seal new secrets under a key the others lack. `rotate` moves the record to the
new key and re-seals every value under it, while gateways holding both keep serving
(docs/adr/0022).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from adapters.persistence import SqlUnitOfWorkFactory, create_engine
from adapters.persistence.sealing import SEALED_COLUMNS, KeyRecord, SealedColumn, SqlSealingKey
from adapters.platform.ids import RandomIds
from adapters.platform.vault import AesGcmVault, UnknownSealingKey
from application.use_cases.identify_operator import IdentifyOperator
from domain.errors import DomainError
from domain.operator import Action, Actor, AuditEntry
from entrypoints.readiness import ReadinessCheck
from entrypoints.settings import ConfigurationError, Settings
from entrypoints.wiring import make_vault

BATCH = 200


def short(fingerprint: str) -> str:
    """How a key is named to people: the first 16 hex characters of its fingerprint."""
    return fingerprint[:16]


def mismatch(record: KeyRecord, vault: AesGcmVault) -> str:
    return (
        f"this process's master key (PAYGATE_MASTER_KEY or PAYGATE_MASTER_KEY_FILE) is not "
        f"the key this database's secrets are sealed with: the "
        f"database records key {short(record.fingerprint)}, this process holds "
        f"{' and '.join(short(f) for f in vault.fingerprints)}; every process of one "
        f"database needs the same key (docs/adr/0022)"
    )


async def checked_record(store: SqlSealingKey, vault: AesGcmVault) -> KeyRecord:
    """The record, written first if there is none; `ConfigurationError` if this process
    does not hold the key it names."""
    record = await store.recorded()
    if record is None:
        record = await store.record_first(await _key_in_use(store, vault), datetime.now(UTC))
    if record.fingerprint not in vault.fingerprints:
        raise ConfigurationError(mismatch(record, vault))
    return record


async def _key_in_use(store: SqlSealingKey, vault: AesGcmVault) -> str:
    """The key a database without a record already seals with: ours if it has no secret."""
    sample = await store.any_sealed_secret()
    if sample is None:
        return vault.fingerprint
    opener = vault.key_of(sample)
    if opener is None:
        raise ConfigurationError(
            "this process's master key does not open the merchant secrets already in this "
            "database: "
            "they were sealed under another key; every process of one database needs the "
            "same key (docs/adr/0022)"
        )
    return opener


async def check_master_key(settings: Settings) -> KeyRecord:
    """What a process does before it serves or operates: refuse a key that does not match."""
    vault = make_vault(settings)
    engine = create_engine(settings.database_url, poolclass=NullPool,
                           pooler=settings.database_pooler)
    try:
        return await checked_record(SqlSealingKey(engine), vault)
    finally:
        await engine.dispose()


def master_key_check(engine: AsyncEngine, vault: AesGcmVault) -> ReadinessCheck:
    """Readiness: the key on record is one this process holds."""
    store = SqlSealingKey(engine)

    async def master_key() -> tuple[bool, str]:
        record = await store.recorded()
        if record is None:
            return True, "no key recorded yet"
        if record.fingerprint in vault.fingerprints:
            return True, f"sealed with key {short(record.fingerprint)}, which this process holds"
        return False, (f"the database's secrets are sealed with key {short(record.fingerprint)},"
                       " which this process lacks")

    return master_key


def _rotation_row(actor: Actor, was: str, to: str, now: datetime) -> AuditEntry:
    return AuditEntry(entry_id=RandomIds().new_id("aud"), actor=actor.name, role=actor.role,
                      action=Action.KEYS_ROTATE, object_type="master_key", object_id=short(to),
                      before=short(was), after=short(to), reason=None, trace_id=None,
                      created_at=now)


class NothingToRotate(DomainError):
    """`keys rotate` with the key the database already has and no key it moved from: the
    new key was not given (or the two were swapped), so nothing would change."""

    code = "nothing_to_rotate"


async def rotate(
    store: SqlSealingKey, vault: AesGcmVault, actor: Actor | None = None
) -> dict[str, Any]:
    """Record this vault's key and re-seal under it every value sealed under another.

    Refused (`NothingToRotate`) when the database already has this key and the vault does
    not hold the key it was rotated from: that is no rotation, nor the re-run of one.

    Runs beside live gateways that hold both keys: each value is replaced only if it is
    unchanged since it was read. Values no key of this process opens are counted, not
    touched. Running it again re-seals what was written under the old key meanwhile.
    """
    if actor is not None:
        actor.require(Action.KEYS_ROTATE)
    record = await checked_record(store, vault)
    if record.fingerprint == vault.fingerprint and (
        record.previous_fingerprint is None
        or record.previous_fingerprint not in vault.fingerprints[1:]
    ):
        raise NothingToRotate(
            f"nothing to rotate: the database's secrets are already sealed with this "
            f"process's key {short(vault.fingerprint)}, and it holds no key they were "
            "rotated from; to rotate, give every process the new key as PAYGATE_MASTER_KEY "
            "and the current one as PAYGATE_PREVIOUS_MASTER_KEY, then run this again")
    now = datetime.now(UTC)
    audit = None if actor is None else _rotation_row(
        actor, record.fingerprint, vault.fingerprint, now)
    if record.fingerprint != vault.fingerprint and not await store.move(
        record.fingerprint, vault.fingerprint, now, audit
    ):
        record = await checked_record(store, vault)  # another rotation moved it first
    resealed: dict[str, int] = {}
    unopened: dict[str, int] = {}
    for sealed in SEALED_COLUMNS:
        resealed[sealed.label], unopened[sealed.label] = await _reseal(store, vault, sealed)
    return {
        "sealed_with": short(vault.fingerprint),
        "resealed": resealed,
        "not_opened": {label: n for label, n in unopened.items() if n},
    }


async def _reseal(
    store: SqlSealingKey, vault: AesGcmVault, sealed: SealedColumn
) -> tuple[int, int]:
    resealed = unopened = 0
    after: tuple[Any, ...] | None = None
    while batch := await store.not_sealed_with(sealed, vault.sealing_prefix, after, BATCH):
        for key, value in batch:
            try:
                plain = vault.open(value)
            except UnknownSealingKey:
                unopened += 1
                continue
            resealed += await store.replace(sealed, key, value, vault.seal(plain))
        after = batch[-1][0]
    return resealed, unopened


async def rotate_master_key(settings: Settings, operator: str | None = None) -> dict[str, Any]:
    """`operator`: the name the rotation is recorded under (held to the admin role)."""
    engine = create_engine(settings.database_url, poolclass=NullPool,
                           pooler=settings.database_pooler)
    try:
        actor = None
        if operator is not None:
            actor = await IdentifyOperator(SqlUnitOfWorkFactory(engine)).by_name(operator)
        return await rotate(SqlSealingKey(engine), make_vault(settings), actor)
    finally:
        await engine.dispose()
