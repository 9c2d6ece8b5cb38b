"""Run a request at most once per idempotency key; replay its response afterwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.errors import ValidationFailed
from application.ports.platform import Clock
from application.ports.storage import IdempotencyStore, StoredResponse

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Idempotency:
    """A 5xx response is not remembered: the request wrote nothing and may be retried."""

    store: IdempotencyStore
    clock: Clock
    purge_batch: int = 1_000

    async def run(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        action: Callable[[], Awaitable[StoredResponse]],
    ) -> tuple[StoredResponse, bool]:
        """The response and whether it is a replay."""
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        replay = await self.store.begin(scope, key, fingerprint, self.clock.now())
        if replay is not None:
            return replay, True
        try:
            response = await action()
        except BaseException:
            await self.store.release(scope, key)
            raise
        if response.status >= 500:
            await self.store.release(scope, key)
        else:
            await self.store.complete(scope, key, response, self.clock.now())
        return response, False

    async def purge_expired(self) -> dict[str, int]:
        """Delete the keys past their 24 h (they already count as absent), a batch at a
        time so that no statement holds the table, or SQLite's write lock, for long."""
        now, purged = self.clock.now(), 0
        while True:
            batch = await self.store.purge_expired(now, self.purge_batch)
            purged += batch
            if batch < self.purge_batch:
                return {"idempotency_keys_purged": purged}
