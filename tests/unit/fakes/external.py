"""Scriptable risk and order services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from application.ports.external import OrderRequest, RiskRequest
from domain.payment import ENDED_UNPAID
from domain.risk import RiskDecision, Verdict
from tests.unit.fakes.storage import FakeDatabase, FakeUnitOfWork

REVIEW_CARD = "4000000000004954"
REJECT_CARD = "4100000000000019"


def _default_rules() -> dict[str, RiskDecision]:
    return {
        REVIEW_CARD: RiskDecision(Verdict.REVIEW, 60, ("manual_review_card",)),
        REJECT_CARD: RiskDecision(Verdict.REJECT, 95, ("blocked_card",)),
    }


@dataclass
class FakeRisk:
    """Approves with score 10 unless the card has a rule; raises `failure` when set."""

    by_card: dict[str, RiskDecision] = field(default_factory=_default_rules)
    failure: Exception | None = None
    requests: list[RiskRequest] = field(default_factory=list)
    db: FakeDatabase | None = None
    calls_in_transaction: int = 0

    async def assess(self, request: RiskRequest) -> RiskDecision:
        self.requests.append(request)
        self.calls_in_transaction += bool(self.db and self.db.open_units)
        if self.failure is not None:
            raise self.failure
        number = request.card.number if request.card else ""
        return self.by_card.get(number, RiskDecision(Verdict.APPROVE, 10))


@dataclass
class FakeOrders:
    """The order book: orders by (merchant, order_no) and the status each followed.

    `shares_database=True` plays the local order book: its writes join the caller's unit
    of work and only appear when that unit commits.
    """

    orders: dict[tuple[str, str], OrderRequest] = field(default_factory=dict)
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)
    create_failure: Exception | None = None
    update_failure: Exception | None = None
    db: FakeDatabase | None = None
    calls_in_transaction: int = 0
    shares_database: bool = False

    async def create_order(self, request: OrderRequest, within: object = None) -> str:
        self.calls_in_transaction += bool(self.db and self.db.open_units)
        if self.create_failure is not None:
            raise self.create_failure
        key = (request.merchant_id, request.order_no)
        self._write(within, lambda: self._take(key, request))
        return f"ord_{request.order_no}"

    def _take(self, key: tuple[str, str], request: OrderRequest) -> None:
        """A new order, or another attempt at one whose payment ended unpaid."""
        if key not in self.orders or self.statuses.get(key) in ENDED_UNPAID:
            self.orders[key] = request
            self.statuses.pop(key, None)

    async def update_status(
        self, merchant_id: str, order_no: str, status: str, within: object = None
    ) -> None:
        self.calls_in_transaction += bool(self.db and self.db.open_units)
        if self.update_failure is not None:
            raise self.update_failure
        self._write(within, lambda: self.statuses.__setitem__((merchant_id, order_no), status))

    def _write(self, within: object, write: Callable[[], object]) -> None:
        if within is None:
            write()
            return
        if not self.shares_database:
            raise AssertionError("a remote order book was handed a unit of work")
        if not isinstance(within, FakeUnitOfWork):
            raise AssertionError(f"joined something that is not a unit of work: {within!r}")
        within.join(write)
