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
