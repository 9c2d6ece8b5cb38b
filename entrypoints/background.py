"""The in-process worker: publishes committed events to the feed, delivers due webhooks,
reconciles payments left in flight, voids authorizations whose hold lapsed uncaptured,
deletes idempotency keys past their 24 h, used signatures past their timestamp window and
events past their retention.

`paygate serve` runs it inside each server process unless `PAYGATE_WORKER=off`;
`paygate worker` runs it alone. Several copies are safe: webhook events are claimed with
a lease, outcomes are recorded under the payment's version check, and publishers take
turns (docs/adr/0020).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class BackgroundWorker:
    """Each job on its own loop: `jobs` by name, with how often each runs (seconds)."""

    def __init__(
        self,
        deliver: Callable[[], Awaitable[Any]],
        reconcile: Callable[[], Awaitable[Any]],
        purge_idempotency_keys: Callable[[], Awaitable[Any]],
        expire_authorizations: Callable[[], Awaitable[Any]],
        *,
        purge_signatures: Callable[[], Awaitable[Any]] | None = None,
        webhook_interval: float = 1.0,
        reconcile_interval: float = 30.0,
        purge_interval: float = 600.0,
        expiry_interval: float = 5.0,
        publish_events: Callable[[], Awaitable[Any]] | None = None,
        prune_events: Callable[[], Awaitable[Any]] | None = None,
        publish_interval: float = 0.2,
        signature_purge_interval: float = 60.0,
    ) -> None:
        """Expiry runs every few seconds: one indexed read when nothing is due, and a hold
        is voided within seconds of lapsing, however short the channel keeps it."""
        self.jobs: dict[str, tuple[Callable[[], Awaitable[Any]], float]] = {
            "webhooks": (deliver, webhook_interval),
            "reconcile": (reconcile, reconcile_interval),
            "idempotency_keys": (purge_idempotency_keys, purge_interval),
            "expiry": (expire_authorizations, expiry_interval),
        }
        if publish_events is not None:  # the feed's latency: an empty outbox costs one read
            self.jobs["events"] = (publish_events, publish_interval)
        if prune_events is not None:
            self.jobs["event_retention"] = (prune_events, purge_interval)
        if purge_signatures is not None:
            self.jobs["used_signatures"] = (purge_signatures, signature_purge_interval)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(job, every))
                       for job, every in self.jobs.values()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    @staticmethod
    async def _loop(job: Callable[[], Awaitable[Any]], every: float) -> None:
        while True:
            try:
                result = await job()
                if result and any(result.values()):
                    log.info("background job done", extra={"result": result})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job failed; retrying in %.0f s", every)
            await asyncio.sleep(every)
