"""Persistence: repositories, the unit of work that owns their transaction, idempotency."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

from application.ports.events import (
    DeliveryRepository,
    EndpointRepository,
    EventRepository,
    OutboxEntry,
    OutboxRepository,
)
from domain.ledger import Posting
from domain.merchant import Merchant
from domain.money import Money
from domain.operator import AuditEntry, Operator
from domain.payment import Payment, PaymentStatus
from domain.refund import Refund, RefundStatus
from domain.routing import Attempt, RoutingRule
from domain.settlement import Settlement

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last row of a page: newest first, ties broken by the id."""

    created_at: datetime
    key: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class PaymentQuery:
    merchant_id: str | None = None  # None: every merchant (operators only)
    status: PaymentStatus | None = None
    order_no: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 20
    cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class RefundQuery:
    merchant_id: str | None = None
    payment_no: str | None = None
    status: RefundStatus | None = None
    limit: int = 20
    cursor: Cursor | None = None


class PaymentRepository(Protocol):
    async def add(self, payment: Payment, announce: OutboxEntry | None = None) -> None:
        """Insert; raises `DuplicateOrder` naming the payment that holds the order_no: one
        that is live (pending, processing, requires_review, requires_capture) or paid. An
        order whose payments all ended failed, rejected or canceled takes another.
        `announce`: this transaction's events, written to the outbox with the payment."""
        ...

    async def get(
        self, payment_no: str, merchant_id: str | None = None, *, for_update: bool = False
    ) -> Payment | None:
        """`merchant_id` scopes the lookup; `for_update` locks the row until commit."""
        ...

    async def get_by_order_no(self, merchant_id: str, order_no: str) -> Payment | None:
        """The payment that holds the order (live or paid), as `add` would name it."""
        ...

    async def update(self, payment: Payment, announce: OutboxEntry | None = None) -> None:
        """Write back; raises `ConcurrentUpdate` when `payment.version` is stale.
        `announce`: this transaction's events, added to the outbox with the payment."""
        ...

    async def list(self, query: PaymentQuery) -> Page[Payment]: ...

    async def list_unresolved(self, updated_before: datetime, limit: int) -> builtins.list[Payment]:
        """`pending` and `processing` payments untouched since `updated_before`, oldest first."""
        ...

    async def list_unanswered_moves(
        self, updated_before: datetime, limit: int
    ) -> builtins.list[Payment]:
        """Payments with a capture or void sent and unanswered since `updated_before`."""
        ...

    async def list_expiring(self, now: datetime, limit: int) -> builtins.list[Payment]:
        """Authorizations whose hold lapsed by `now` with nothing on its way, oldest first."""
        ...

    async def count_unresolved(self, updated_from: datetime | None = None) -> dict[str, int]:
        """How many `pending` and `processing` payments there are, by status; with
        `updated_from`, only those changed at or after it."""
        ...

    async def captured_on(self, merchant_id: str, day: date) -> builtins.list[Money]:
        """Amounts the merchant's payments captured during the UTC day."""
        ...


class RefundRepository(Protocol):
    async def add(self, refund: Refund) -> None: ...

    async def get(self, refund_no: str, merchant_id: str | None = None) -> Refund | None: ...

    async def get_by_request_key(self, payment_no: str, request_key: str) -> Refund | None:
        """The payment's refund made under that request key (unique per payment)."""
        ...

    async def update(self, refund: Refund) -> None: ...

    async def list(self, query: RefundQuery) -> Page[Refund]: ...

    async def list_pending(self, updated_before: datetime, limit: int) -> builtins.list[Refund]: ...

    async def count_pending(self, updated_from: datetime | None = None) -> int:
        """How many refunds are `pending`; with `updated_from`, changed at or after it."""
        ...

    async def succeeded_on(self, merchant_id: str, day: date) -> builtins.list[Money]:
        """Amounts of the merchant's refunds that succeeded during the UTC day."""
        ...


class LedgerRepository(Protocol):
    """Append-only: entries are never updated or deleted."""

    async def append(self, postings: builtins.list[Posting]) -> None: ...

    async def balances(self, merchant_id: str | None = None) -> dict[tuple[str, str], int]:
        """Debits minus credits per (account, currency)."""
        ...


class SettlementRepository(Protocol):
    async def add(self, settlement: Settlement) -> None:
        """Raises `AlreadySettled` for a second settlement of a merchant, currency and day."""
        ...

    async def list(
        self, merchant_id: str | None = None, day: date | None = None
    ) -> builtins.list[Settlement]: ...


class MerchantRepository(Protocol):
    async def add(self, merchant: Merchant) -> None: ...

    async def get(self, merchant_id: str) -> Merchant | None: ...

    async def get_by_api_key(self, api_key: str) -> Merchant | None: ...

    async def set_active(self, merchant_id: str, active: bool) -> bool:
        """Enable or disable the merchant's API access; False when there is no such merchant."""
        ...

    async def list_ids(self) -> builtins.list[str]:
        """Every merchant id, oldest first."""
        ...

    async def list_all(self) -> builtins.list[Merchant]:
        """Every merchant, oldest first, in one read."""
        ...


class OperatorRepository(Protocol):
    """Named operator credentials; a token is found by its hash, never kept in clear."""

    async def add(self, operator: Operator) -> None:
        """Raises `DuplicateName` when an operator of that name exists (disabled ones too)."""
        ...

    async def get_by_name(self, name: str) -> Operator | None: ...

    async def get_by_token_hash(self, token_hash: str) -> Operator | None: ...

    async def update(self, operator: Operator) -> None:
        """Write back `active` and `disabled_at`."""
        ...

    async def list(self) -> builtins.list[Operator]:
        """Every operator, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor: str | None = None
    object_id: str | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    limit: int = 20
    cursor: Cursor | None = None


class AuditRepository(Protocol):
    """Append-only: paygate has no way to update or delete an entry."""

    async def add(self, entry: AuditEntry) -> None: ...

    async def list(self, query: AuditQuery) -> Page[AuditEntry]:
        """Newest first, ties broken by the entry id."""
        ...


class RoutingRepository(Protocol):
    async def get(self, merchant_id: str) -> builtins.list[RoutingRule]:
        """The merchant's rules in order; none set is an empty list."""
        ...

    async def put(self, merchant_id: str, rules: builtins.list[RoutingRule], now: datetime) -> None:
        """Replace the merchant's rules, all at once."""
        ...


class AttemptRepository(Protocol):
    """A routed payment's attempts; a payment that names its channel has no rows."""

    async def add(self, attempt: Attempt) -> None: ...

    async def update(self, attempt: Attempt) -> None:
        """Write the attempt's outcome and failure code."""
        ...

    async def of(self, payment_nos: builtins.list[str]) -> dict[str, builtins.list[Attempt]]:
        """Each payment's attempts, oldest first."""
        ...


class UnitOfWork(Protocol):
    """One database transaction. Leaving the block without `commit()` rolls everything back.

    Its repositories are read-only members: a unit may make them when first asked for.
    """

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def refunds(self) -> RefundRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def settlements(self) -> SettlementRepository: ...

    @property
    def merchants(self) -> MerchantRepository: ...

    @property
    def operators(self) -> OperatorRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def routing(self) -> RoutingRepository: ...

    @property
    def attempts(self) -> AttemptRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def events(self) -> EventRepository: ...

    @property
    def endpoints(self) -> EndpointRepository: ...

    @property
    def deliveries(self) -> DeliveryRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """A fresh unit of work per call. `read_only` units never take the write lock.

    A read-only unit reads one snapshot by default. `snapshot=False` gives up that
    snapshot: each statement reads the latest committed rows on its own, outside any
    transaction, which saves the BEGIN and ROLLBACK round trips of a unit that runs a
    single read (looking up one payment). Units whose reads must agree keep the snapshot.
    """

    def __call__(self, *, read_only: bool = False, snapshot: bool = True) -> UnitOfWork: ...


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class IdempotencyStore(Protocol):
    """Idempotency keys per scope (a merchant), kept 24 h, shared by every process.

    `begin` either claims the key (returns None: the caller runs the request, then calls
    `complete` or `release`), replays a finished request (returns its response), or raises
    `IdempotencyKeyReused` (another fingerprint) / `IdempotencyKeyInUse` (still running).
    """

    async def begin(
        self, scope: str, key: str, fingerprint: str, now: datetime
    ) -> StoredResponse | None: ...

    async def complete(
        self, scope: str, key: str, response: StoredResponse, now: datetime
    ) -> None: ...

    async def release(self, scope: str, key: str) -> None: ...

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` keys expired at `now`; how many it deleted."""
        ...
