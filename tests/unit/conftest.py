"""Every unit test gets a fresh gateway wired to fakes, and one onboarded merchant."""

from __future__ import annotations

import pytest

from tests.unit.fakes import Gateway


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
async def merchant_id(gateway: Gateway) -> str:
    return await gateway.onboard("Acme")
