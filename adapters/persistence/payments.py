"""The payments table: its row mapper and `SqlPaymentRepository`.

Statements are built once at import; SQLAlchemy then reuses their compiled form, so a
call costs one round trip and the mapping below, nothing else (docs/adr/0004).
"""

from __future__ import annotations

import builtins
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.persistence.outbox import entry_line
from adapters.persistence.routing import SqlAttemptRepository, with_attempts
from adapters.persistence.schema import HELD_STATUS, LIVE_OR_PAID, UNRESOLVED_STATUS
from adapters.persistence.schema import payments as t
from adapters.persistence.sql import Repository, newest_first, page_of, utc_day
from adapters.persistence.types import UtcDateTime
from application.errors import ConcurrentUpdate
from application.ports.events import OutboxEntry
from application.ports.storage import Cursor, Page, PaymentQuery
from domain import plain_values as plain
from domain.authorization import CaptureMethod, HoldMove
from domain.card import CardSummary
from domain.errors import DuplicateOrder
from domain.money import Money
from domain.payment import Payment, PaymentStatus
from domain.risk import RiskDecision, Verdict

MUTABLE = (
    "status",
    "channel",  # a routed payment's moves to the channel of its next attempt
    "attempt",
    "risk_verdict",
    "risk_score",
    "risk_reasons",
    "card_brand",
    "card_last4",
    "refunded_amount",
    "refund_reserved",
    "failure_code",
    "failure_message",
    "channel_reference",
    "payment_token",
    "captured_at",
    "updated_at",
    "amount_captured",
    "capture_before",
    "cancellation_reason",
    "pending_move",
    "pending_capture",
)



def payment_to_row(p: Payment) -> dict[str, Any]:
    risk, card = p.risk, p.card
    return {
        "payment_no": p.payment_no,
        "merchant_id": p.merchant_id,
        "order_no": p.order_no,
        "amount": p.amount.amount,
        "currency": p.amount.currency,
        "channel": p.channel,
        "status": plain.STATUS[p.status],
        "risk_verdict": plain.VERDICT[risk.verdict] if risk else None,
        "risk_score": risk.score if risk else None,
        "risk_reasons": list(risk.reasons) if risk else None,
        "card_brand": card.brand if card else None,
        "card_last4": card.last4 if card else None,
        "refunded_amount": p.refunded_amount,
        "refund_reserved": p.refund_reserved,
        "failure_code": p.failure_code,
        "failure_message": p.failure_message,
        "description": p.description,
        "notify_url": p.notify_url,
        "customer_id": p.customer_id,
        "metadata": p.metadata,
        "channel_reference": p.channel_reference,
        "payment_token": p.payment_token,
        "captured_at": p.captured_at,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "version": p.version,
        "capture_method": plain.CAPTURE_METHOD[p.capture_method],
        "amount_captured": p.amount_captured,
        "capture_before": p.capture_before,
        "cancellation_reason": p.cancellation_reason,
        "pending_move": p.pending_move.value if p.pending_move else None,
        "pending_capture": p.pending_capture,
        "attempt": p.attempt,
    }


def payment_from_row(r: Row[Any]) -> Payment:
    risk = None
    if r.risk_verdict is not None:
        risk = RiskDecision(Verdict(r.risk_verdict), r.risk_score, tuple(r.risk_reasons or ()))
    card = CardSummary(r.card_brand, r.card_last4) if r.card_brand is not None else None
    return Payment(
        payment_no=r.payment_no,
        merchant_id=r.merchant_id,
        order_no=r.order_no,
        amount=Money(r.amount, r.currency),
        channel=r.channel,
        created_at=r.created_at,
        updated_at=r.updated_at,
        status=PaymentStatus(r.status),
        risk=risk,
        card=card,
        refunded_amount=r.refunded_amount,
        refund_reserved=r.refund_reserved,
        failure_code=r.failure_code,
        failure_message=r.failure_message,
        description=r.description,
        notify_url=r.notify_url,
        customer_id=r.customer_id,
        metadata=dict(r.metadata),
        channel_reference=r.channel_reference,
        payment_token=r.payment_token,
        captured_at=r.captured_at,
        capture_method=CaptureMethod(r.capture_method),
        amount_captured=r.amount_captured,
        capture_before=r.capture_before,
        cancellation_reason=r.cancellation_reason,
        pending_move=HoldMove(r.pending_move) if r.pending_move else None,
        pending_capture=r.pending_capture,
        attempt=r.attempt,
        version=r.version,
    )


_ORDER = ("merchant_id", "order_no")
_INSERT = {  # a conflict on the order's live or paid payment inserts nothing (rowcount 0)
    "sqlite": sqlite_insert(t).on_conflict_do_nothing(
        index_elements=_ORDER, index_where=LIVE_OR_PAID),
    "postgresql": pg_insert(t).on_conflict_do_nothing(
        index_elements=_ORDER, index_where=LIVE_OR_PAID),
}
# a payment as the repository reads it: every column but its unpublished events, which
# only the outbox reads (adapters/persistence/outbox.py)
_PAYMENT = select(*(c for c in t.c if c.name not in ("unpublished", "unpublished_since")))
_BY_NO = _PAYMENT.where(t.c.payment_no == bindparam("p"))
_GET = {
    (False, False): _BY_NO,
    (True, False): _BY_NO.where(t.c.merchant_id == bindparam("m")),
    (False, True): _BY_NO.with_for_update(),
    (True, True): _BY_NO.where(t.c.merchant_id == bindparam("m")).with_for_update(),
}
_BY_ORDER = _PAYMENT.where(
    t.c.merchant_id == bindparam("m"), t.c.order_no == bindparam("o"), LIVE_OR_PAID
)
_UPDATE = (
    t.update()
    .where(t.c.payment_no == bindparam("b_payment_no"), t.c.version == bindparam("b_version"))
    .values({name: bindparam(name) for name in (*MUTABLE, "version")})
)
_UPDATE_ANNOUNCING = _UPDATE.values(  # the transaction's events appended to the outbox
    unpublished=func.coalesce(t.c.unpublished, "") + bindparam("announce", type_=Text),
    unpublished_since=func.coalesce(
        t.c.unpublished_since, bindparam("announce_at", type_=UtcDateTime)),
)
_UNRESOLVED = (
    _PAYMENT
    .where(UNRESOLVED_STATUS, t.c.updated_at < bindparam("before"))
    .order_by(t.c.updated_at, t.c.payment_no)
    .limit(bindparam("limit"))
)
_MOVES_UNANSWERED = (
    _PAYMENT
    .where(HELD_STATUS, t.c.pending_move.is_not(None), t.c.updated_at < bindparam("before"))
    .order_by(t.c.updated_at, t.c.payment_no)
    .limit(bindparam("limit"))
)
_EXPIRING = (
    _PAYMENT
    .where(HELD_STATUS, t.c.pending_move.is_(None), t.c.capture_before <= bindparam("now"))
    .order_by(t.c.capture_before, t.c.payment_no)
    .limit(bindparam("limit"))
)
_UNRESOLVED_COUNTS = (
    select(t.c.status, func.count())
    .where(UNRESOLVED_STATUS, t.c.updated_at >= bindparam("since"))
    .group_by(t.c.status)
)
_CAPTURED = select(t.c.amount_captured.label("amount"), t.c.currency).where(
    t.c.merchant_id == bindparam("m"),
    t.c.captured_at >= bindparam("start"),
    t.c.captured_at < bindparam("end"),
)


class SqlPaymentRepository(Repository):
    __slots__ = ()

    async def add(self, payment: Payment, announce: OutboxEntry | None = None) -> None:
        row = payment_to_row(payment)
        if announce is not None:
            row.update(unpublished=entry_line(announce), unpublished_since=announce.created_at)
        result = await self._execute(_INSERT[self.dialect], row)
        if result.rowcount == 0:
            # rare, so the look-up costs nothing on the payment path: the merchant whose
            # first answer was lost learns which payment holds the order
            held = await self.get_by_order_no(payment.merchant_id, payment.order_no)
            holder = {"payment_no": held.payment_no} if held is not None else {}
            raise DuplicateOrder(
                f"order {payment.order_no} already has a payment"
                + (f", {held.payment_no}" if held is not None else ""),
                order_no=payment.order_no,
                **holder,
            )

    async def get(
        self, payment_no: str, merchant_id: str | None = None, *, for_update: bool = False
    ) -> Payment | None:
        statement = _GET[merchant_id is not None, for_update]
        row = (await self._execute(statement, {"p": payment_no, "m": merchant_id})).first()
        if row is None:
            return None
        payment = payment_from_row(row)
        if payment.attempt:
            await self._attach([payment])
        return payment

    async def _attach(self, payments: builtins.list[Payment]) -> builtins.list[Payment]:
        """Routed payments' attempts, read on the same connection (one statement for all;
        none for payments that named their channel)."""
        await with_attempts(self._attempts(), payments)
        return payments

    def _attempts(self) -> SqlAttemptRepository:
        return SqlAttemptRepository(self._conn, self._dialect, self._driver, self._writable)

    async def get_by_order_no(self, merchant_id: str, order_no: str) -> Payment | None:
        """The order's live or paid payment; None when every attempt ended unpaid."""
        row = (await self._execute(_BY_ORDER, {"m": merchant_id, "o": order_no})).first()
        return None if row is None else (await self._attach([payment_from_row(row)]))[0]

    async def update(self, payment: Payment, announce: OutboxEntry | None = None) -> None:
        row = payment_to_row(payment)
        params = {name: row[name] for name in MUTABLE}
        params.update(
            version=payment.version + 1, b_payment_no=payment.payment_no, b_version=payment.version
        )
        statement = _UPDATE
        if announce is not None:
            statement = _UPDATE_ANNOUNCING
            params.update(announce=entry_line(announce), announce_at=announce.created_at)
        if (await self._execute(statement, params)).rowcount == 0:
            raise ConcurrentUpdate(f"payment {payment.payment_no} changed since it was read")
        payment.version += 1

    async def list(self, query: PaymentQuery) -> Page[Payment]:
        """Newest first; `created_from` is inclusive and `created_to` exclusive."""
        statement = _PAYMENT
        if query.merchant_id is not None:
            statement = statement.where(t.c.merchant_id == query.merchant_id)
        if query.status is not None:
            statement = statement.where(t.c.status == query.status.value)
        if query.order_no is not None:
            statement = statement.where(t.c.order_no == query.order_no)
        if query.created_from is not None:
            statement = statement.where(t.c.created_at >= query.created_from)
        if query.created_to is not None:
            statement = statement.where(t.c.created_at < query.created_to)
        statement = newest_first(
            statement, t.c.created_at, t.c.payment_no, query.cursor, query.limit
        )
        rows = await self._execute(statement)
        items = await self._attach([payment_from_row(row) for row in rows])
        return page_of(items, query.limit, lambda p: Cursor(p.created_at, p.payment_no))

    async def list_unresolved(self, updated_before: datetime, limit: int) -> builtins.list[Payment]:
        result = await self._execute(_UNRESOLVED, {"before": updated_before, "limit": limit})
        return await self._attach([payment_from_row(row) for row in result])

    async def list_unanswered_moves(
        self, updated_before: datetime, limit: int
    ) -> builtins.list[Payment]:
        result = await self._execute(_MOVES_UNANSWERED, {"before": updated_before, "limit": limit})
        return await self._attach([payment_from_row(row) for row in result])

    async def list_expiring(self, now: datetime, limit: int) -> builtins.list[Payment]:
        result = await self._execute(_EXPIRING, {"now": now, "limit": limit})
        return await self._attach([payment_from_row(row) for row in result])

    async def count_unresolved(self, updated_from: datetime | None = None) -> dict[str, int]:
        since = updated_from or datetime.min.replace(tzinfo=UTC)
        result = await self._execute(_UNRESOLVED_COUNTS, {"since": since})
        return {status: int(count) for status, count in result}

    async def captured_on(self, merchant_id: str, day: date) -> builtins.list[Money]:
        start, end = utc_day(day)
        result = await self._execute(_CAPTURED, {"m": merchant_id, "start": start, "end": end})
        return [Money(row.amount, row.currency) for row in result]
