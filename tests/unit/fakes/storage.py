"""An in-memory database whose units of work stage every write until `commit()`.

Leaving a unit of work without committing throws its writes away, so a use case that
forgets to commit, or fails half way, is caught by the state the tests read back.
Objects are copied on the way in and out, as rows are: no test shares memory with
the "database".
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Self, TypeVar

from application.errors import AlreadySettled, ConcurrentUpdate, DuplicateName, Unavailable
from application.ports.events import (
    Announced,
    DeliveryRepository,
    EndpointRepository,
    Event,
    EventRepository,
    OutboxEntry,
    OutboxRepository,
    WebhookDelivery,
)
from application.ports.storage import (
    AttemptRepository,
    AuditQuery,
    AuditRepository,
    Cursor,
    LedgerRepository,
    MerchantRepository,
    OperatorRepository,
    Page,
    PaymentQuery,
    PaymentRepository,
    RefundQuery,
    RefundRepository,
    RoutingRepository,
    SettlementRepository,
)
from domain.errors import DuplicateOrder
from domain.ledger import Posting, Side
from domain.merchant import Merchant
from domain.money import Money
from domain.operator import AuditEntry, Operator
from domain.payment import ENDED_UNPAID, UNRESOLVED, Payment, PaymentStatus
from domain.refund import Refund, RefundStatus
from domain.routing import Attempt, RoutingRule
from domain.settlement import Settlement
from domain.webhook_endpoint import WebhookEndpoint
from tests.unit.fakes.events import (
    FakeDeliveryRepository,
    FakeEndpointRepository,
    FakeEventRepository,
    FakeOutboxRepository,
)

Row = TypeVar("Row", Payment, Refund)
LOCK_WAIT = 5.0  # seconds: longer only when a unit waits for a lock its own task holds


def _copy_payment(payment: Payment) -> Payment:
    """As a row would give it back: its moves were announced, or rolled back, with it."""
    return dataclasses.replace(payment, metadata=dict(payment.metadata), unannounced=[],
                               attempts=[dataclasses.replace(a) for a in payment.attempts])


def _page(rows: list[Row], key: str, cursor: Cursor | None, limit: int) -> Page[Row]:
    """Newest first, ties broken by the id; the cursor is the last row already seen."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    rows = sorted(rows, key=lambda row: (row.created_at, getattr(row, key)), reverse=True)
    if cursor is not None:
        rows = [
            r for r in rows if (r.created_at, getattr(r, key)) < (cursor.created_at, cursor.key)
        ]
    items = rows[:limit]
    more = len(rows) > limit
    last = items[-1] if items else None
    next_cursor = Cursor(last.created_at, getattr(last, key)) if more and last else None
    return Page(items, next_cursor)


@dataclass
class FakeDatabase:
    """What has been committed, plus switches to make the database misbehave."""

    payments: dict[str, Payment] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    postings: list[Posting] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)
    merchants: dict[str, Merchant] = field(default_factory=dict)
    operators: dict[str, Operator] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    fail_commit: bool = False  # the next commit raises, as a database failing at COMMIT
    outbox: dict[int, OutboxEntry] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    last_sequences: dict[str, int] = field(default_factory=dict)
    endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    deliveries: dict[str, WebhookDelivery] = field(default_factory=dict)
    routing: dict[str, list[RoutingRule]] = field(default_factory=dict)
    attempts: dict[tuple[str, int], Attempt] = field(default_factory=dict)
    entries_written: int = 0  # the outbox's own counter: an entry's place in it
    commits: int = 0
    down: bool = False
    open_units: int = 0  # units of work entered and not yet left
    reads: int = 0  # read-only units of work entered
    # payment_no -> how many of its next updates find the row changed by another worker
    racing_writers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    row_locks: dict[str, asyncio.Lock] = field(default_factory=dict)  # SELECT ... FOR UPDATE

    def payment(self, payment_no: str) -> Payment:
        return _copy_payment(self.payments[payment_no])

    def refund(self, refund_no: str) -> Refund:
        return dataclasses.replace(self.refunds[refund_no])

    def event_types(self, merchant_id: str | None = None) -> list[str]:
        """Every event written: those published in sequence order, then the outbox's."""
        published = sorted(self.events.values(), key=lambda e: (e.merchant_id, e.sequence))
        return [e.type for e in published if merchant_id in (None, e.merchant_id)] + [
            event.type
            for _, entry in sorted(self.outbox.items())
            if merchant_id in (None, entry.merchant_id)
            for event in entry.events
        ]

    def notified(self) -> list[Announced]:
        """The events written for a payment's notify_url, in the order written."""
        return [
            event
            for _, entry in sorted(self.outbox.items())
            for event in entry.events
            if event.notify and entry.notify_url
        ]

    def notified_types(self) -> list[str]:
        return [event.type for event in self.notified()]

    def account_balance(self, account: str, currency: str) -> int:
        """Debits minus credits of one account."""
        total = 0
        for posting in self.postings:
            for entry in posting.entries:
                if entry.account == account and entry.amount.currency == currency:
                    sign = 1 if entry.side is Side.DEBIT else -1
                    total += sign * entry.amount.amount
        return total


class _Staged:
    """Writes of one unit of work, not yet visible to anybody else."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.payments: dict[str, Payment] = {}
        self.payment_bases: dict[str, int] = {}
        self.refunds: dict[str, Refund] = {}
        self.postings: list[Posting] = []
        self.settlements: list[Settlement] = []
        self.merchants: dict[str, Merchant] = {}
        self.operators: dict[str, Operator] = {}
        self.audit: list[AuditEntry] = []
        self.outbox: list[OutboxEntry] = []
        self.outbox_removed: set[int] = set()
        self.events: dict[str, Event] = {}
        self.events_removed: set[str] = set()
        self.last_sequences: dict[str, int] = {}
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self.deliveries: dict[str, WebhookDelivery] = {}
        self.deliveries_removed: set[str] = set()
        self.routing: dict[str, list[RoutingRule]] = {}
        self.attempts: dict[tuple[str, int], Attempt] = {}

    def __bool__(self) -> bool:
        staged = (self.payments, self.refunds, self.postings, self.settlements, self.merchants,
                  self.operators, self.audit,
                  self.routing, self.attempts)
        feed = (self.outbox, self.outbox_removed, self.events, self.events_removed,
                self.last_sequences, self.endpoints, self.deliveries, self.deliveries_removed)
        return any(staged) or any(feed)


class FakePaymentRepository:
    def __init__(
        self, db: FakeDatabase, staged: _Staged, lock: Callable[[str], Awaitable[None]]
    ) -> None:
        self._db, self._staged, self._lock = db, staged, lock

    def _all(self) -> dict[str, Payment]:
        return {**self._db.payments, **self._staged.payments}

    def _holder(self, merchant_id: str, order_no: str) -> Payment | None:
        """The order's live or paid payment, as the database's partial unique index sees it."""
        for other in self._all().values():
            if (other.merchant_id, other.order_no) == (merchant_id, order_no) and (
                other.status not in ENDED_UNPAID
            ):
                return other
        return None

    def _announce(self, payment: Payment, entry: OutboxEntry | None) -> None:
        if entry is not None:  # its place in the outbox is given at commit
            self._staged.outbox.append(dataclasses.replace(entry, position=(payment.payment_no, 0)))

    async def add(self, payment: Payment, announce: OutboxEntry | None = None) -> None:
        other = self._holder(payment.merchant_id, payment.order_no)
        if other is not None:
            raise DuplicateOrder(f"order_no {payment.order_no!r} was already used",
                                 order_no=other.order_no, payment_no=other.payment_no)
        if payment.payment_no in self._all():
            raise AssertionError(f"payment {payment.payment_no} inserted twice")
        self._staged.payments[payment.payment_no] = _copy_payment(payment)
        self._staged.payment_bases[payment.payment_no] = -1
        self._announce(payment, announce)

    async def get(
        self, payment_no: str, merchant_id: str | None = None, *, for_update: bool = False
    ) -> Payment | None:
        if for_update:  # as a row lock: held until the unit ends, waited for by others
            await self._lock(payment_no)
        payment = self._all().get(payment_no)
        if payment is None or merchant_id not in (None, payment.merchant_id):
            return None
        return _copy_payment(payment)

    async def get_by_order_no(self, merchant_id: str, order_no: str) -> Payment | None:
        holder = self._holder(merchant_id, order_no)
        return None if holder is None else _copy_payment(holder)

    async def update(self, payment: Payment, announce: OutboxEntry | None = None) -> None:
        current = self._all().get(payment.payment_no)
        if current is None:  # deleted meanwhile: a conditional UPDATE matches no row
            raise ConcurrentUpdate(f"payment {payment.payment_no} is gone")
        if self._db.racing_writers[payment.payment_no] > 0:
            self._db.racing_writers[payment.payment_no] -= 1
            raise ConcurrentUpdate(f"payment {payment.payment_no} changed under us")
        if current.version != payment.version:
            raise ConcurrentUpdate(f"payment {payment.payment_no} is at version {current.version}")
        self._staged.payment_bases.setdefault(payment.payment_no, current.version)
        payment.version += 1
        self._staged.payments[payment.payment_no] = _copy_payment(payment)
        self._announce(payment, announce)

    async def list(self, query: PaymentQuery) -> Page[Payment]:
        rows = [
            _copy_payment(p)
            for p in self._all().values()
            if query.merchant_id in (None, p.merchant_id)
            and query.status in (None, p.status)
            and query.order_no in (None, p.order_no)
            and (query.created_from is None or p.created_at >= query.created_from)
            and (query.created_to is None or p.created_at < query.created_to)
        ]
        return _page(rows, "payment_no", query.cursor, query.limit)

    async def list_unresolved(self, updated_before: datetime, limit: int) -> builtins.list[Payment]:
        rows = [
            p
            for p in self._all().values()
            if p.status in UNRESOLVED and p.updated_at < updated_before
        ]
        rows.sort(key=lambda p: (p.updated_at, p.payment_no))
        return [_copy_payment(p) for p in rows[:limit]]

    async def list_unanswered_moves(
        self, updated_before: datetime, limit: int
    ) -> builtins.list[Payment]:
        rows = [
            p
            for p in self._all().values()
            if p.status is PaymentStatus.REQUIRES_CAPTURE
            and p.pending_move is not None
            and p.updated_at < updated_before
        ]
        return [_copy_payment(p) for p in sorted(rows, key=lambda p: p.updated_at)[:limit]]

    async def list_expiring(self, now: datetime, limit: int) -> builtins.list[Payment]:
        rows = [
            p
            for p in self._all().values()
            if p.status is PaymentStatus.REQUIRES_CAPTURE
            and p.pending_move is None
            and p.is_expired(now)
        ]
        return [_copy_payment(p) for p in sorted(rows, key=lambda p: p.capture_before or now)[
            :limit]]

    async def count_unresolved(self, updated_from: datetime | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self._all().values():
            if p.status in UNRESOLVED and (updated_from is None or p.updated_at >= updated_from):
                counts[p.status.value] = counts.get(p.status.value, 0) + 1
        return counts

    async def captured_on(self, merchant_id: str, day: date) -> builtins.list[Money]:
        return [
            Money(p.amount_captured, p.currency)
            for p in self._all().values()
            if p.merchant_id == merchant_id
            and p.captured_at is not None
            and p.captured_at.astimezone(UTC).date() == day
        ]


class FakeRefundRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    def _all(self) -> dict[str, Refund]:
        return {**self._db.refunds, **self._staged.refunds}

    async def add(self, refund: Refund) -> None:
        if refund.refund_no in self._all():
            raise AssertionError(f"refund {refund.refund_no} inserted twice")
        if refund.request_key is not None and any(
            (r.payment_no, r.request_key) == (refund.payment_no, refund.request_key)
            for r in self._all().values()
        ):
            raise ConcurrentUpdate(f"{refund.payment_no} has a refund under that request key")
        self._staged.refunds[refund.refund_no] = dataclasses.replace(refund)

    async def get(self, refund_no: str, merchant_id: str | None = None) -> Refund | None:
        refund = self._all().get(refund_no)
        if refund is None or merchant_id not in (None, refund.merchant_id):
            return None
        return dataclasses.replace(refund)

    async def get_by_request_key(self, payment_no: str, request_key: str) -> Refund | None:
        made = [r for r in self._all().values()
                if (r.payment_no, r.request_key) == (payment_no, request_key)]
        assert len(made) <= 1, f"two refunds of {payment_no} under one request key"
        return dataclasses.replace(made[0]) if made else None

    async def update(self, refund: Refund) -> None:
        if refund.refund_no not in self._all():
            raise AssertionError(f"update of refund {refund.refund_no} that was never added")
        self._staged.refunds[refund.refund_no] = dataclasses.replace(refund)

    async def list(self, query: RefundQuery) -> Page[Refund]:
        rows = [
            dataclasses.replace(r)
            for r in self._all().values()
            if query.merchant_id in (None, r.merchant_id)
            and query.payment_no in (None, r.payment_no)
            and query.status in (None, r.status)
        ]
        return _page(rows, "refund_no", query.cursor, query.limit)

    async def list_pending(self, updated_before: datetime, limit: int) -> builtins.list[Refund]:
        rows = [
            r
            for r in self._all().values()
            if r.status is RefundStatus.PENDING and r.updated_at < updated_before
        ]
        rows.sort(key=lambda r: (r.updated_at, r.refund_no))
        return [dataclasses.replace(r) for r in rows[:limit]]

    async def count_pending(self, updated_from: datetime | None = None) -> int:
        return sum(
            1
            for r in self._all().values()
            if r.status is RefundStatus.PENDING
            and (updated_from is None or r.updated_at >= updated_from)
        )

    async def succeeded_on(self, merchant_id: str, day: date) -> builtins.list[Money]:
        return [
            r.amount
            for r in self._all().values()
            if r.merchant_id == merchant_id
            and r.status is RefundStatus.SUCCEEDED
            and r.completed_at is not None
            and r.completed_at.astimezone(UTC).date() == day
        ]


class FakeLedgerRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    async def append(self, postings: builtins.list[Posting]) -> None:
        known = {p.posting_id for p in [*self._db.postings, *self._staged.postings]}
        for posting in postings:
            if posting.posting_id in known:  # the fact was recorded by another unit first
                raise ConcurrentUpdate(f"posting already recorded: {posting.posting_id}")
            known.add(posting.posting_id)
        self._staged.postings.extend(postings)

    async def balances(self, merchant_id: str | None = None) -> dict[tuple[str, str], int]:
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for posting in [*self._db.postings, *self._staged.postings]:
            if merchant_id not in (None, posting.merchant_id):
                continue
            for entry in posting.entries:
                sign = 1 if entry.side is Side.DEBIT else -1
                totals[(entry.account, entry.amount.currency)] += sign * entry.amount.amount
        return dict(totals)


class FakeSettlementRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    async def add(self, settlement: Settlement) -> None:
        key = (settlement.merchant_id, settlement.currency, settlement.day)
        for other in [*self._db.settlements, *self._staged.settlements]:
            if (other.merchant_id, other.currency, other.day) == key:
                raise AlreadySettled(f"{key} is already settled")
        self._staged.settlements.append(settlement)

    async def list(
        self, merchant_id: str | None = None, day: date | None = None
    ) -> builtins.list[Settlement]:
        rows = [
            s
            for s in [*self._db.settlements, *self._staged.settlements]
            if merchant_id in (None, s.merchant_id) and day in (None, s.day)
        ]
        return sorted(rows, key=lambda s: (s.day, s.merchant_id, s.currency))


class FakeMerchantRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    def _all(self) -> dict[str, Merchant]:
        return {**self._db.merchants, **self._staged.merchants}

    async def add(self, merchant: Merchant) -> None:
        if merchant.merchant_id in self._all():
            raise AssertionError(f"merchant {merchant.merchant_id} inserted twice")
        self._staged.merchants[merchant.merchant_id] = dataclasses.replace(merchant)

    async def get(self, merchant_id: str) -> Merchant | None:
        merchant = self._all().get(merchant_id)
        return None if merchant is None else dataclasses.replace(merchant)

    async def get_by_api_key(self, api_key: str) -> Merchant | None:
        for merchant in self._all().values():
            if merchant.api_key == api_key:
                return dataclasses.replace(merchant)
        return None

    async def set_active(self, merchant_id: str, active: bool) -> bool:
        merchant = self._all().get(merchant_id)
        if merchant is None:
            return False
        self._staged.merchants[merchant_id] = dataclasses.replace(merchant, active=active)
        return True

    async def list_ids(self) -> builtins.list[str]:
        return [m.merchant_id for m in await self.list_all()]

    async def list_all(self) -> builtins.list[Merchant]:
        merchants = sorted(self._all().values(), key=lambda m: (m.created_at, m.merchant_id))
        return [dataclasses.replace(m) for m in merchants]


class FakeOperatorRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    def _all(self) -> dict[str, Operator]:
        return {**self._db.operators, **self._staged.operators}

    async def add(self, operator: Operator) -> None:
        if operator.name in self._all():
            raise DuplicateName(f"an operator named {operator.name} exists already")
        if any(o.token_hash == operator.token_hash for o in self._all().values()):
            raise AssertionError("two operators with one token hash")
        self._staged.operators[operator.name] = dataclasses.replace(operator)

    async def get_by_name(self, name: str) -> Operator | None:
        operator = self._all().get(name)
        return None if operator is None else dataclasses.replace(operator)

    async def get_by_token_hash(self, token_hash: str) -> Operator | None:
        for operator in self._all().values():
            if operator.token_hash == token_hash:
                return dataclasses.replace(operator)
        return None

    async def update(self, operator: Operator) -> None:
        kept = self._all()[operator.name]
        self._staged.operators[operator.name] = dataclasses.replace(
            kept, active=operator.active, disabled_at=operator.disabled_at)

    async def list(self) -> builtins.list[Operator]:
        return sorted((dataclasses.replace(o) for o in self._all().values()),
                      key=lambda o: (o.created_at, o.name))


class FakeAuditRepository:
    """Append-only, as the tables: there is nothing to update or delete with."""

    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    async def add(self, entry: AuditEntry) -> None:
        self._staged.audit.append(entry)

    async def list(self, query: AuditQuery) -> Page[AuditEntry]:
        rows = [
            e for e in [*self._db.audit, *self._staged.audit]
            if query.actor in (None, e.actor) and query.object_id in (None, e.object_id)
            and (query.created_from is None or e.created_at >= query.created_from)
            and (query.created_to is None or e.created_at < query.created_to)
        ]
        if query.limit < 1:
            raise ValueError(f"limit must be at least 1, got {query.limit}")
        rows.sort(key=lambda e: (e.created_at, e.entry_id), reverse=True)
        if query.cursor is not None:
            position = (query.cursor.created_at, query.cursor.key)
            rows = [e for e in rows if (e.created_at, e.entry_id) < position]
        items = rows[:query.limit]
        more = len(rows) > query.limit
        return Page(items, Cursor(items[-1].created_at, items[-1].entry_id) if more else None)


class FakeRoutingRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    async def get(self, merchant_id: str) -> builtins.list[RoutingRule]:
        return list({**self._db.routing, **self._staged.routing}.get(merchant_id, []))

    async def put(self, merchant_id: str, rules: builtins.list[RoutingRule], now: datetime) -> None:
        self._staged.routing[merchant_id] = list(rules)


class FakeAttemptRepository:
    """Attempt rows; on commit each is copied into its payment too, as a read joins them."""

    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    async def add(self, attempt: Attempt) -> None:
        key = (attempt.payment_no, attempt.seq)
        if key in self._db.attempts or key in self._staged.attempts:
            raise AssertionError(f"attempt {key} inserted twice")
        self._staged.attempts[key] = dataclasses.replace(attempt)

    async def update(self, attempt: Attempt) -> None:
        key = (attempt.payment_no, attempt.seq)
        if key not in self._db.attempts and key not in self._staged.attempts:
            raise AssertionError(f"attempt {key} updated before it was written")
        self._staged.attempts[key] = dataclasses.replace(attempt)

    async def of(self, payment_nos: builtins.list[str]) -> dict[str, builtins.list[Attempt]]:
        rows = {**self._db.attempts, **self._staged.attempts}
        found: dict[str, builtins.list[Attempt]] = {}
        for (payment_no, _), attempt in sorted(rows.items()):
            if payment_no in payment_nos:
                found.setdefault(payment_no, []).append(dataclasses.replace(attempt))
        return found


class FakeUnitOfWork:
    def __init__(self, db: FakeDatabase, *, read_only: bool) -> None:
        self._db, self.read_only = db, read_only
        self._staged = _Staged()
        self._held: list[asyncio.Lock] = []
        self.payments: PaymentRepository = FakePaymentRepository(db, self._staged, self._lock)
        self.refunds: RefundRepository = FakeRefundRepository(db, self._staged)
        self.ledger: LedgerRepository = FakeLedgerRepository(db, self._staged)
        self.settlements: SettlementRepository = FakeSettlementRepository(db, self._staged)
        self.merchants: MerchantRepository = FakeMerchantRepository(db, self._staged)
        self.operators: OperatorRepository = FakeOperatorRepository(db, self._staged)
        self.audit: AuditRepository = FakeAuditRepository(db, self._staged)
        self.outbox: OutboxRepository = FakeOutboxRepository(db, self._staged)
        self.events: EventRepository = FakeEventRepository(db, self._staged)
        self.endpoints: EndpointRepository = FakeEndpointRepository(db, self._staged)
        self.deliveries: DeliveryRepository = FakeDeliveryRepository(db, self._staged)
        self.routing: RoutingRepository = FakeRoutingRepository(db, self._staged)
        self.attempts: AttemptRepository = FakeAttemptRepository(db, self._staged)
        self._joined_writes: list[Callable[[], object]] = []

    async def _lock(self, key: str) -> None:
        lock = self._db.row_locks.setdefault(key, asyncio.Lock())
        if lock in self._held:
            return
        try:
            async with asyncio.timeout(LOCK_WAIT):
                await lock.acquire()
        except TimeoutError:
            raise AssertionError(f"waited {LOCK_WAIT} s for the row lock of {key}: "
                                 "is a unit of work open inside another?") from None
        self._held.append(lock)

    def join(self, write: Callable[[], object]) -> None:
        """A port sharing this database (the local order book) writes with this unit."""
        if self._db.open_units == 0:
            raise AssertionError("joined a unit of work that is not open")
        self._joined_writes.append(write)

    async def __aenter__(self) -> Self:
        if self._db.down:
            raise Unavailable("the database is down")
        self._db.open_units += 1
        self._db.reads += self.read_only
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._db.open_units -= 1
        self._staged.clear()  # whatever was not committed is rolled back
        self._joined_writes.clear()
        while self._held:  # the transaction ends, and its row locks with it
            self._held.pop().release()

    async def commit(self) -> None:
        if self.read_only and self._staged:
            raise AssertionError("a read-only unit of work tried to write")
        if self._db.down:
            raise Unavailable("the database is down")
        if self._db.fail_commit:
            self._db.fail_commit = False
            raise Unavailable("the database failed at COMMIT")
        staged, db = self._staged, self._db
        for payment_no, base in staged.payment_bases.items():
            committed = db.payments.get(payment_no)
            if base >= 0 and (committed is None or committed.version != base):
                raise ConcurrentUpdate(f"payment {payment_no} changed before commit")
        db.payments.update(staged.payments)
        db.refunds.update(staged.refunds)
        db.postings.extend(staged.postings)
        db.settlements.extend(staged.settlements)
        db.merchants.update(staged.merchants)
        db.operators.update(staged.operators)
        db.audit.extend(staged.audit)
        db.routing.update(staged.routing)
        db.attempts.update(staged.attempts)
        for (payment_no, seq), attempt in sorted(staged.attempts.items()):
            held = db.payments[payment_no].attempts
            if len(held) >= seq:
                held[seq - 1] = dataclasses.replace(attempt)
            else:
                held.append(dataclasses.replace(attempt))
        for entry in staged.outbox:
            db.entries_written += 1
            payment_no = entry.position[0] if entry.position else ""
            db.outbox[db.entries_written] = dataclasses.replace(
                entry, position=(payment_no, db.entries_written))
        for entry_id in staged.outbox_removed:
            del db.outbox[entry_id]
        db.events.update(staged.events)
        for event_id in staged.events_removed:
            del db.events[event_id]
        db.last_sequences.update(staged.last_sequences)
        db.endpoints.update(staged.endpoints)
        db.deliveries.update(staged.deliveries)
        for delivery_id in staged.deliveries_removed:
            del db.deliveries[delivery_id]
        for write in self._joined_writes:
            write()
        db.commits += 1
        staged.clear()
        self._joined_writes.clear()


@dataclass
class FakeUnitOfWorkFactory:
    db: FakeDatabase

    def __call__(self, *, read_only: bool = False, snapshot: bool = True) -> FakeUnitOfWork:
        if not (snapshot or read_only):
            raise AssertionError("a unit that writes always works on one snapshot")
        return FakeUnitOfWork(self.db, read_only=read_only)
