"""Run a request at most once per idempotency key; replay its response afterwards."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.errors import ValidationFailed
from application.ports.platform import Clock
from application.ports.storage import IdempotencyStore, StoredResponse
from domain.references import check_reference

MAX_KEY_LENGTH = 255

log = logging.getLogger(__name__)


def check_key(key: str) -> None:
    """An Idempotency-Key paygate can store and compare, and people can read: 1 to 255
    printable characters (`domain.references`)."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    check_reference("Idempotency-Key", key)


@dataclass(frozen=True, slots=True)
class Idempotency:
    """A 5xx response is not remembered: the request wrote nothing and may be retried.

    A response the store cannot keep is still answered: what the action wrote is committed,
    and the claim, left in flight, is taken over after its lease by a retry that then meets
    the action's own guard: an order_no is paid once, and a refund made under a key is
    found again by that key (`CreateRefundCommand.request_key`).
    """

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
        check_key(key)
        replay = await self.store.begin(scope, key, fingerprint, self.clock.now())
        if replay is not None:
            return replay, True
        try:
            response = await action()
        except BaseException:
            await self._release(scope, key)
            raise
        if response.status >= 500:
            await self._release(scope, key)
        else:
            await self._remember(scope, key, response)
        return response, False

    async def _release(self, scope: str, key: str) -> None:
        """Free the key for a retry; if that fails the answer stands (nothing was written
        under the key) and the key frees itself when its lease runs out."""
        try:
            await self.store.release(scope, key)
        except Exception as error:
            log.error("idempotency key %r of %s could not be released: %s; it is free again "
                      "when its lease ends", key, scope, error)

    async def _remember(self, scope: str, key: str, response: StoredResponse) -> None:
        try:
            await self.store.complete(scope, key, response, self.clock.now())
        except Exception as error:  # answered all the same: the work is done
            log.error("the %d response to idempotency key %r of %s is answered but could not "
                      "be stored: %s", response.status, key, scope, error)

    async def purge_expired(self) -> dict[str, int]:
        """Delete the keys past their 24 h (they already count as absent), a batch at a
        time so that no statement holds the table, or SQLite's write lock, for long."""
        now, purged = self.clock.now(), 0
        while True:
            batch = await self.store.purge_expired(now, self.purge_batch)
            purged += batch
            if batch < self.purge_batch:
                return {"idempotency_keys_purged": purged}
