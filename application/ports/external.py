"""Risk and order services, in process or remote."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from application.ports.storage import UnitOfWork
from domain.card import CardDetails
from domain.money import Money
from domain.risk import RiskDecision


@dataclass(frozen=True, slots=True)
class RiskRequest:
    merchant_id: str
    payment_no: str
    order_no: str
    amount: Money
    card: CardDetails | None = None
    customer_id: str | None = None
    email: str | None = None
    ip: str | None = None


class RiskPort(Protocol):
    """Decides whether a payment may be charged. Raises `Unavailable` when it cannot answer."""

    async def assess(self, request: RiskRequest) -> RiskDecision: ...


@dataclass(frozen=True, slots=True)
class OrderRequest:
    merchant_id: str
    order_no: str
    payment_no: str
    amount: Money
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class OrderPort(Protocol):
    """The merchant's order book. Creating the same order twice is harmless (idempotent).

    `shares_database` is True when the book lives in paygate's own database (the local
    order book). The use cases then call it *inside* the payment's unit of work, passing
    it as `within`, so the order commits or rolls back with the payment: no extra round
    trip or commit, and no order without its payment. A remote order service is False and
    is only ever called outside a transaction, so no network call holds one open.
    """

    shares_database: bool

    async def create_order(self, request: OrderRequest, within: UnitOfWork | None = None) -> str:
        """Record the order; returns the order service's reference. Raises `Unavailable`."""
        ...

    async def update_status(
        self, merchant_id: str, order_no: str, status: str, within: UnitOfWork | None = None
    ) -> None:
        """Let the order follow its payment's status."""
        ...
