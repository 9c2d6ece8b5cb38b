"""paygate's own use cases in the test process, on the database a process is using.

For what a running process would only do on a schedule measured in minutes or hours
(reconciling after the grace period, retrying a webhook a day long): the same container a
`paygate` command builds, from the same environment, with a clock the test moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from dependency_injector import providers

from entrypoints.container import Container, build_container, close_container
from entrypoints.settings import Settings


class MovableClock:
    def __init__(self, moment: datetime | None = None) -> None:
        self.moment = moment or datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, by: timedelta) -> None:
        self.moment += by

    def timestamp(self) -> float:
        return self.moment.timestamp()


@asynccontextmanager
async def paygate(env: Mapping[str, str], clock: MovableClock) -> AsyncIterator[Container]:
    container = build_container(Settings.from_env(env).but(metrics=False, tracing=False))
    container.core.clock.override(providers.Object(clock))
    try:
        yield container
    finally:
        await close_container(container)
