"""Adapters that misbehave on purpose: held open, racing, or down."""

from __future__ import annotations

import asyncio
from typing import Any

from application.errors import Unavailable
from application.ports.channel import ChannelPort, ChargeRequest, ChargeResult
from application.ports.external import RiskRequest
from domain.risk import RiskDecision


class HeldChannel:
    """The sandbox, except that each charge waits at a gate the test opens."""

    def __init__(self, inner: ChannelPort) -> None:
        self._inner = inner
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        self.entered.set()
        await asyncio.wait_for(self.gate.wait(), timeout=10)
        return await self._inner.charge(request)


class BarrierRisk:
    """Approves, but only once `parties` assessments are waiting: they all pass together."""

    def __init__(self, inner: Any, parties: int) -> None:
        self._inner, self._parties, self._waiting = inner, parties, 0
        self._all_in = asyncio.Event()

    async def assess(self, request: RiskRequest) -> RiskDecision:
        self._waiting += 1
        if self._waiting >= self._parties:
            self._all_in.set()
        await asyncio.wait_for(self._all_in.wait(), timeout=10)
        decision: RiskDecision = await self._inner.assess(request)
        return decision


class DownRisk:
    """A risk service that is down."""

    async def assess(self, request: RiskRequest) -> RiskDecision:
        raise Unavailable("the risk service did not answer")


class DownOrders:
    """An order service that is down."""

    shares_database = False

    async def create_order(self, request: Any, within: Any = None) -> str:
        raise Unavailable("the order service did not answer")

    async def update_status(
        self, merchant_id: str, order_no: str, status: str, within: Any = None
    ) -> None:
        raise Unavailable("the order service did not answer")
