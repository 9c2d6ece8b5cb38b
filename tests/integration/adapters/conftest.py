"""Local HTTP servers for the adapter integration tests: a fake Stripe, a started uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from adapter_http_settings import QUICK, WEBHOOK_SECRET
from fake_stripe import API_KEY, FakeStripe
from threaded_server import serving

from adapters.channel.stripe_channel import StripeChannel
from adapters.resilience import Breakers


class Switch:
    """One server per module; each test swaps in a fresh fake behind it."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[tuple[str, Switch]]:
    switch = Switch()
    with serving(switch) as url:
        yield url, switch


@pytest.fixture
def fake_stripe(stripe_server: tuple[str, Switch]) -> FakeStripe:
    fake = FakeStripe(slow_seconds=0.6)
    stripe_server[1].app = fake
    return fake


@pytest.fixture
def breakers() -> Breakers:
    return Breakers(failure_threshold=5, recovery_timeout=30)


@pytest.fixture
async def stripe(
    stripe_server: tuple[str, Switch], fake_stripe: FakeStripe, breakers: Breakers
) -> AsyncIterator[StripeChannel]:
    channel = StripeChannel.connect(
        API_KEY, WEBHOOK_SECRET, breakers, base_url=stripe_server[0], policy=QUICK
    )
    yield channel
    await channel.aclose()
