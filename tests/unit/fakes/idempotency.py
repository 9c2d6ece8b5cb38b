"""An in-memory idempotency store with the shared store's rules: claim, replay, release."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from application.ports.storage import StoredResponse

RETENTION = timedelta(hours=24)


@dataclass
class _Claim:
    fingerprint: str
    claimed_at: datetime
    response: StoredResponse | None = None


@dataclass
class FakeIdempotencyStore:
    claims: dict[tuple[str, str], _Claim] = field(default_factory=dict)
    purge_calls: list[int] = field(default_factory=list)

    async def begin(
        self, scope: str, key: str, fingerprint: str, now: datetime
    ) -> StoredResponse | None:
        claim = self.claims.get((scope, key))
        if claim is not None and now - claim.claimed_at < RETENTION:
            if claim.fingerprint != fingerprint:
                raise IdempotencyKeyReused("this key was used with another request")
            if claim.response is None:
                raise IdempotencyKeyInUse("the first request with this key is still running")
            return claim.response
        self.claims[(scope, key)] = _Claim(fingerprint, now)
        return None

    async def complete(self, scope: str, key: str, response: StoredResponse, now: datetime) -> None:
        self.claims[(scope, key)].response = response

    async def release(self, scope: str, key: str) -> None:
        del self.claims[(scope, key)]

    async def purge_expired(self, now: datetime, limit: int) -> int:
        self.purge_calls.append(limit)
        expired = [key for key, claim in self.claims.items()
                   if now - claim.claimed_at >= RETENTION][:limit]
        for key in expired:
            del self.claims[key]
        return len(expired)
