"""A signed merchant request that changes something is accepted once (docs/adr/0023).

The signature covers the timestamp, the method, the target and the body, and the
timestamp is accepted for 300 s: within that window the same bytes sent again would be a
second refund. So the signature of every request but GET, HEAD and OPTIONS is spent in
the database (one INSERT, shared by every process) before the handler runs. Sending it
again is `401 unauthenticated` ("signature already used"), unless it carries the same
`Idempotency-Key` as the first: then it is that key's replay, answered from the stored
response.

A request answered `503 unavailable` wrote nothing, so its signature is released and the
same bytes may be sent again; if even the release fails (the database went away), the
merchant signs again (a new `X-Timestamp`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from application.errors import Unavailable
from application.idempotency import check_key
from application.ports.platform import Clock
from domain.errors import DomainError
from entrypoints.http.errors import ApiError
from observability.asgi_types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLOCK_MARGIN_SECONDS = 60  # gateways' clocks may differ this much; a row outlives them all
ALREADY_USED = ("signature already used: a signed request is accepted once; sign it again "
                "(a new X-Timestamp) to send another, or send an Idempotency-Key to retry one")
_SPENT = "paygate.spent_signature"


class UsedSignatures(Protocol):
    async def spend(
        self, merchant_id: str, signature: str, idempotency_key: str | None, expires_at: datetime
    ) -> bool: ...

    async def release(self, merchant_id: str, signature: str) -> None: ...

    async def purge_expired(self, now: datetime, limit: int) -> int: ...


@dataclass(frozen=True, slots=True)
class ReplayGuard:
    store: UsedSignatures
    clock: Clock
    tolerance_seconds: int
    purge_batch: int = 1_000

    async def spend(self, scope: Any, merchant_id: str, signature: str, stamp: int,
                    idempotency_key: str | None) -> None:
        """Raise `ApiError(unauthenticated)` when the signature was spent already."""
        if scope["method"] in SAFE_METHODS:
            return
        if idempotency_key is not None:
            check_key(idempotency_key)  # a key that cannot be stored spends nothing: 422
        expires = datetime.fromtimestamp(
            stamp + self.tolerance_seconds + CLOCK_MARGIN_SECONDS, UTC)
        if not await self.store.spend(merchant_id, signature, idempotency_key, expires):
            raise ApiError("unauthenticated", ALREADY_USED)
        scope.setdefault("state", {})[_SPENT] = (merchant_id, signature)

    async def release(self, scope: Scope) -> None:
        spent = scope.get("state", {}).pop(_SPENT, None)
        if spent is None:
            return
        try:
            await self.store.release(*spent)
        except (DomainError, Unavailable) as error:
            log.warning("a signature answered 503 could not be released (%s): the merchant "
                        "must sign that request again", error.message)

    async def purge_expired(self) -> dict[str, int]:
        """Delete the signatures whose timestamps are no longer accepted, a batch at a time."""
        now, purged = self.clock.now(), 0
        while True:
            batch = await self.store.purge_expired(now, self.purge_batch)
            purged += batch
            if batch < self.purge_batch:
                return {"used_signatures_purged": purged}


def release_on_unavailable(app: ASGIApp, guard: ReplayGuard) -> ASGIApp:
    """ASGI middleware: a request answered 503 gets its signature back once answered."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, watch)
        finally:
            if status == 503:
                await guard.release(scope)

    return middleware
