"""`SqlIdempotencyStore`: idempotency keys shared by every worker process and host.

One row per (scope, key). Each step is a single statement that either wins or changes
nothing (INSERT ... ON CONFLICT DO NOTHING, then UPDATE ... WHERE <still claimable>), so
two processes racing for a key can never both run the request; no row lock is held
while the request itself runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.errors import translated
from adapters.persistence.schema import idempotency_keys as t
from adapters.persistence.sql import Autocommit, InsertIgnoring
from application.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from application.ports.storage import StoredResponse

IN_FLIGHT, COMPLETED = "in_flight", "completed"
_KEY = and_(t.c.scope == bindparam("s"), t.c.key == bindparam("k"))
_CLAIM = InsertIgnoring(t, "scope", "key")
_TAKE_OVER = (
    update(t)
    .where(
        _KEY,
        or_(
            t.c.expires_at <= bindparam("now"),
            and_(
                t.c.state == IN_FLIGHT,
                t.c.fingerprint == bindparam("f"),
                t.c.created_at <= bindparam("stale_before"),
            ),
        ),
    )
    .values(
        fingerprint=bindparam("f"),
        state=IN_FLIGHT,
        response_status=None,
        response_body=None,
        response_headers=None,
        created_at=bindparam("now"),
        expires_at=bindparam("expires"),
    )
)
_READ = select(t).where(_KEY)
_COMPLETE = (
    update(t)
    .where(_KEY, t.c.state == IN_FLIGHT)
    .values(
        state=COMPLETED,
        response_status=bindparam("status"),
        response_body=bindparam("body"),
        response_headers=bindparam("headers"),
    )
)
_RELEASE = delete(t).where(_KEY, t.c.state == IN_FLIGHT)
_PURGE = delete(t).where(tuple_(t.c.scope, t.c.key).in_(
    select(t.c.scope, t.c.key)
    .where(t.c.expires_at <= bindparam("now"))
    .limit(bindparam("n"))
    # PostgreSQL: two workers purging at once take different rows instead of waiting for
    # (or deadlocking on) each other's; SQLite has one writer at a time and no such clause
    .with_for_update(skip_locked=True)))


class SqlIdempotencyStore:
    """Keys live `ttl` (24 h); an in-flight claim older than `lease` is presumed dead.

    A takeover needs the same fingerprint: another body under the key is still a
    reused key, whether or not the first request lived.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: timedelta = timedelta(hours=24),
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._db = Autocommit(engine)
        self._ttl, self._lease = ttl, lease

    async def begin(
        self, scope: str, key: str, fingerprint: str, now: datetime
    ) -> StoredResponse | None:
        params = {
            "s": scope,
            "k": key,
            "f": fingerprint,
            "now": now,
            "expires": now + self._ttl,
            "stale_before": now - self._lease,
        }
        with translated("claiming an idempotency key"):
            async with self._db.connect() as conn:
                for _ in range(3):  # a release between two steps sends us round again
                    if await self._claimed(conn, scope, key, fingerprint, now, params):
                        return None
                    row = (await conn.execute(_READ, params)).first()
                    if row is not None:
                        return _replay(row, key, fingerprint)
        raise IdempotencyKeyInUse(f"idempotency key {key!r} is in use", key=key)

    async def _claimed(
        self,
        conn: AsyncConnection,
        scope: str,
        key: str,
        fingerprint: str,
        now: datetime,
        params: dict[str, Any],
    ) -> bool:
        row = {
            "scope": scope,
            "key": key,
            "fingerprint": fingerprint,
            "state": IN_FLIGHT,
            "created_at": now,
            "expires_at": now + self._ttl,
        }
        if (await conn.execute(_CLAIM.on(conn.dialect.name), row)).rowcount:
            return True
        return bool((await conn.execute(_TAKE_OVER, params)).rowcount)

    async def complete(self, scope: str, key: str, response: StoredResponse, now: datetime) -> None:
        params = {
            "s": scope,
            "k": key,
            "status": response.status,
            "body": response.body,
            "headers": dict(response.headers),
        }
        with translated("storing an idempotent response"):
            async with self._db.connect() as conn:
                await conn.execute(_COMPLETE, params)

    async def release(self, scope: str, key: str) -> None:
        with translated("releasing an idempotency key"):
            async with self._db.connect() as conn:
                await conn.execute(_RELEASE, {"s": scope, "k": key})

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Housekeeping: delete up to `limit` expired keys (they already count as absent,
        and `ix_idempotency_keys_expires` finds them); returns how many."""
        with translated("purging idempotency keys"):
            async with self._db.connect() as conn:
                return (await conn.execute(_PURGE, {"now": now, "n": limit})).rowcount


def _replay(row: Row[Any], key: str, fingerprint: str) -> StoredResponse:
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} was used with another request body", key=key
        )
    if row.state == IN_FLIGHT:
        raise IdempotencyKeyInUse(
            f"idempotency key {key!r} is in use by a running request", key=key
        )
    return StoredResponse(
        row.response_status, bytes(row.response_body), dict(row.response_headers or {})
    )
