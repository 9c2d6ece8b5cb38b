"""The in-process worker: delivers due webhooks and reconciles payments left in flight.

`paygate serve` runs it inside each server process unless `PAYGATE_WORKER=off`;
`paygate worker` runs it alone. Several copies are safe: webhook events are claimed with
a lease, and outcomes are recorded under the payment's version check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class BackgroundWorker:
    def __init__(
        self,
        deliver: Callable[[], Awaitable[Any]],
        reconcile: Callable[[], Awaitable[Any]],
        *,
        webhook_interval: float = 1.0,
        reconcile_interval: float = 30.0,
    ) -> None:
        self._jobs = ((deliver, webhook_interval), (reconcile, reconcile_interval))
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(job, every)) for job, every in self._jobs]

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
