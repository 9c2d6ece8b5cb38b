"""`SqlUsedSignatures`: signed merchant requests that change something, each accepted once.

One row per merchant and signature (its SHA-256: a signature is never stored), claimed
with a single INSERT ... ON CONFLICT DO NOTHING that only one process can win; the row
lives as long as the signature's timestamp is accepted and is pruned after that
(docs/adr/0023). The claim runs in a single-statement unit of work on the driver
connection (one round trip on PostgreSQL, docs/adr/0033): through SQLAlchemy's connection
(`Autocommit`) the same INSERT cost 2.5 times the instructions, a third of a payment's.
A request that carries an
Idempotency-Key records it: sending the same bytes with the same key again is that key's
replay, not a new request, while the same bytes with another key (the header is not
signed) are refused.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.errors import translated
from adapters.persistence.schema import used_signatures as t
from adapters.persistence.sql import Autocommit, InsertIgnoring, Repository

if TYPE_CHECKING:
    from adapters.persistence.uow import SqlUnitOfWorkFactory

_SPEND = InsertIgnoring(t, "merchant_id", "signature_sha256")
_THIS = and_(t.c.merchant_id == bindparam("m"), t.c.signature_sha256 == bindparam("s"))
_KEY_OF = select(t.c.idempotency_key).where(_THIS)
_RELEASE = delete(t).where(_THIS)
_PURGE = delete(t).where(tuple_(t.c.merchant_id, t.c.signature_sha256).in_(
    select(t.c.merchant_id, t.c.signature_sha256)
    .where(t.c.expires_at <= bindparam("now"))
    .limit(bindparam("n"))
    .with_for_update(skip_locked=True)))


class SqlUsedSignatureRepository(Repository):
    """The unit of work's view of the table: the claim and, when it is lost, whose it is."""

    __slots__ = ()

    async def claim(self, row: dict[str, Any]) -> bool:
        return bool((await self._execute(_SPEND.on(self.dialect), row)).rowcount)

    async def key_of(self, merchant_id: str, digest: str) -> tuple[str | None] | None:
        """The Idempotency-Key the signature was spent under, or None if it is not spent."""
        row = (await self._execute(_KEY_OF, {"m": merchant_id, "s": digest})).first()
        return None if row is None else (row[0],)


class SqlUsedSignatures:
    def __init__(self, engine: AsyncEngine, uow: SqlUnitOfWorkFactory) -> None:
        self._db, self._uow = Autocommit(engine), uow

    async def spend(
        self, merchant_id: str, signature: str, idempotency_key: str | None, expires_at: datetime
    ) -> bool:
        """True when this request may run: the signature is new, or it was spent by a
        request under the same Idempotency-Key (whose answer the key replays)."""
        digest = _digest(signature)
        row = {
            "merchant_id": merchant_id,
            "signature_sha256": digest,
            "idempotency_key": idempotency_key,
            "expires_at": expires_at,
        }
        async with self._uow(single_statement=True) as unit:
            if await unit.used_signatures.claim(row):
                await unit.commit()
                return True
            spent_under = await unit.used_signatures.key_of(merchant_id, digest)
        return idempotency_key is not None and spent_under == (idempotency_key,)

    async def release(self, merchant_id: str, signature: str) -> None:
        """Make the signature usable again: its request wrote nothing (a 503)."""
        with translated("releasing a used signature"):
            async with self._db.connect() as conn:
                await conn.execute(_RELEASE, {"m": merchant_id, "s": _digest(signature)})

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` rows whose timestamps are no longer accepted anyway."""
        with translated("purging used signatures"):
            async with self._db.connect() as conn:
                return (await conn.execute(_PURGE, {"now": now, "n": limit})).rowcount


def _digest(signature: str) -> str:
    """What is stored of a signature: it identifies the request without being one that
    the database, a backup or a statement log could hand to anybody."""
    return hashlib.sha256(signature.encode()).hexdigest()
