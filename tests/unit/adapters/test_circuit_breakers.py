"""Circuit breakers per dependency, with time driven by the test."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.resilience import Breakers, CircuitOpen, Policy, RemoteService
from tests.unit.adapters.adapter_fakes import ManualClock

FAST = Policy(timeout=1.0, attempts=1, wait_initial=0.001, wait_max=0.001, wait_jitter=0)


class Backend:
    """A dependency that is up or down, and counts the requests that reached it."""

    def __init__(self) -> None:
        self.up = False
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(200 if self.up else 503, json={})


def service(breakers: Breakers, backend: Backend, name: str = "risk") -> RemoteService:
    return RemoteService.open(
        name, "http://risk.test", breakers, FAST, transport=httpx.MockTransport(backend)
    )


async def fail(remote: RemoteService, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Exception, match="answered 503"):
            await remote.request("GET", "/", idempotent=True)


async def test_a_registered_dependency_reports_closed_before_any_call(clock: ManualClock) -> None:
    breakers = Breakers(clock=clock)
    service(breakers, Backend(), "order")
    assert breakers.states() == {"order": "closed"}


async def test_breaker_opens_after_threshold_consecutive_failures(clock: ManualClock) -> None:
    breakers = Breakers(failure_threshold=3, recovery_timeout=30, clock=clock)
    remote = service(breakers, Backend())
    await fail(remote, 2)
    assert breakers.state("risk") == "closed"
    await fail(remote, 1)
    assert breakers.state("risk") == "open"
    assert breakers.any_open()


async def test_open_breaker_fails_fast_without_sending(clock: ManualClock) -> None:
    breakers = Breakers(failure_threshold=2, recovery_timeout=30, clock=clock)
    backend = Backend()
    remote = service(breakers, backend)
    await fail(remote, 2)
    with pytest.raises(CircuitOpen) as raised:
        await remote.request("GET", "/", idempotent=True)
    assert raised.value.sent is False
    assert backend.calls == 2


async def test_breaker_half_opens_after_recovery_timeout_and_closes_on_success(
    clock: ManualClock,
) -> None:
    breakers = Breakers(failure_threshold=2, recovery_timeout=30, clock=clock)
    backend = Backend()
    remote = service(breakers, backend)
    await fail(remote, 2)
    clock.advance(29)
    assert breakers.state("risk") == "open"
    clock.advance(2)
    assert breakers.state("risk") == "half-open"
    backend.up = True
    response = await remote.request("GET", "/", idempotent=True)
    assert response.status_code == 200
    assert breakers.state("risk") == "closed"


async def test_a_failed_trial_call_opens_the_breaker_again(clock: ManualClock) -> None:
    breakers = Breakers(failure_threshold=2, recovery_timeout=30, clock=clock)
    backend = Backend()
    remote = service(breakers, backend)
    await fail(remote, 2)
    clock.advance(31)
    await fail(remote, 1)
    assert breakers.state("risk") == "open"
    assert backend.calls == 3


async def test_a_success_resets_the_consecutive_failure_count(clock: ManualClock) -> None:
    breakers = Breakers(failure_threshold=2, recovery_timeout=30, clock=clock)
    backend = Backend()
    remote = service(breakers, backend)
    await fail(remote, 1)
    backend.up = True
    await remote.request("GET", "/", idempotent=True)
    backend.up = False
    await fail(remote, 1)
    assert breakers.state("risk") == "closed"


async def test_each_dependency_has_its_own_breaker(clock: ManualClock) -> None:
    breakers = Breakers(failure_threshold=1, recovery_timeout=30, clock=clock)
    healthy = Backend()
    healthy.up = True
    await fail(service(breakers, Backend(), "risk"), 1)
    await service(breakers, healthy, "order").request("GET", "/", idempotent=True)
    assert breakers.states() == {"order": "closed", "risk": "open"}


async def test_client_errors_do_not_count_against_the_breaker(clock: ManualClock) -> None:
    breakers = Breakers(failure_threshold=1, recovery_timeout=30, clock=clock)
    remote = RemoteService.open(
        "risk",
        "http://risk.test",
        breakers,
        FAST,
        transport=httpx.MockTransport(lambda request: httpx.Response(422, json={})),
    )
    response = await remote.request("POST", "/", idempotent=False)
    assert response.status_code == 422
    assert breakers.state("risk") == "closed"


async def test_a_cancelled_call_does_not_count_against_the_breaker(clock: ManualClock) -> None:
    breakers = Breakers(failure_threshold=1, recovery_timeout=30, clock=clock)

    with pytest.raises(asyncio.CancelledError):
        async with breakers.guard("risk"):
            raise asyncio.CancelledError

    assert breakers.state("risk") == "closed"


async def test_a_trial_call_that_fails_opens_it_for_a_whole_new_period(clock: ManualClock) -> None:
    breakers = Breakers(failure_threshold=1, recovery_timeout=30, clock=clock)
    with pytest.raises(LookupError):
        async with breakers.guard("risk"):
            raise LookupError
    clock.advance(31)

    with pytest.raises(LookupError):
        async with breakers.guard("risk"):
            raise LookupError
    clock.advance(29)

    assert breakers.state("risk") == "open"
    with pytest.raises(CircuitOpen):
        async with breakers.guard("risk"):
            pass
