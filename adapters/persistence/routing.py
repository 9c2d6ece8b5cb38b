"""Routing rules and payment attempts: `SqlRoutingRepository`, `SqlAttemptRepository`.

A merchant's rules are one JSON list in one row, read and replaced whole. Attempts are
written only for routed payments (docs/adr/0025): a payment that names its channel costs
no statement here.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, select

from adapters.persistence.schema import payment_attempts as a
from adapters.persistence.schema import routing_rules as r
from adapters.persistence.sql import Repository
from domain.routing import Attempt, AttemptOutcome, RoutingRule


def rule_to_json(rule: RoutingRule) -> dict[str, Any]:
    return {
        "currency": rule.currency,
        "min_amount": rule.min_amount,
        "max_amount": rule.max_amount,
        "card_brand": rule.card_brand,
        "channels": list(rule.channels),
    }


def rule_from_json(raw: dict[str, Any]) -> RoutingRule:
    return RoutingRule(
        channels=tuple(raw["channels"]),
        currency=raw.get("currency"),
        min_amount=raw.get("min_amount"),
        max_amount=raw.get("max_amount"),
        card_brand=raw.get("card_brand"),
    )


_RULES = select(r.c.rules).where(r.c.merchant_id == bindparam("m"))
_DROP_RULES = delete(r).where(r.c.merchant_id == bindparam("m"))
_PUT_RULES = r.insert()


class SqlRoutingRepository(Repository):
    __slots__ = ()

    async def get(self, merchant_id: str) -> builtins.list[RoutingRule]:
        row = (await self._execute(_RULES, {"m": merchant_id})).first()
        return [] if row is None else [rule_from_json(raw) for raw in row.rules]

    async def put(self, merchant_id: str, rules: builtins.list[RoutingRule], now: datetime) -> None:
        await self._execute(_DROP_RULES, {"m": merchant_id})
        await self._execute(_PUT_RULES, {"merchant_id": merchant_id,
                                         "rules": [rule_to_json(x) for x in rules],
                                         "updated_at": now})


def attempt_to_row(attempt: Attempt) -> dict[str, Any]:
    return {
        "payment_no": attempt.payment_no,
        "seq": attempt.seq,
        "channel": attempt.channel,
        "attempt_key": attempt.key,
        "outcome": attempt.outcome.value,
        "failure_code": attempt.failure_code,
        "started_at": attempt.started_at,
    }


def attempt_from_row(row: Row[Any]) -> Attempt:
    return Attempt(payment_no=row.payment_no, seq=row.seq, channel=row.channel,
                   started_at=row.started_at, outcome=AttemptOutcome(row.outcome),
                   failure_code=row.failure_code)


_ADD = a.insert()
_END = (
    a.update()
    .where(a.c.payment_no == bindparam("b_payment_no"), a.c.seq == bindparam("b_seq"))
    .values(outcome=bindparam("outcome"), failure_code=bindparam("failure_code"))
)
_OF = (
    select(a)
    .where(a.c.payment_no.in_(bindparam("payments", expanding=True)))
    .order_by(a.c.payment_no, a.c.seq)
)


class SqlAttemptRepository(Repository):
    __slots__ = ()

    async def add(self, attempt: Attempt) -> None:
        await self._execute(_ADD, attempt_to_row(attempt))

    async def update(self, attempt: Attempt) -> None:
        await self._execute(_END, {"b_payment_no": attempt.payment_no, "b_seq": attempt.seq,
                                   "outcome": attempt.outcome.value,
                                   "failure_code": attempt.failure_code})

    async def of(self, payment_nos: builtins.list[str]) -> dict[str, builtins.list[Attempt]]:
        found: dict[str, builtins.list[Attempt]] = {}
        if not payment_nos:
            return found
        for row in await self._execute(_OF, {"payments": list(payment_nos)}):
            found.setdefault(row.payment_no, []).append(attempt_from_row(row))
        return found


async def with_attempts(attempts: SqlAttemptRepository, payments: Iterable[Any]) -> None:
    """Give each routed payment its attempts, in one statement for them all."""
    routed = {p.payment_no: p for p in payments if p.attempt > 0}
    if not routed:
        return
    for payment_no, found in (await attempts.of(builtins.list(routed))).items():
        routed[payment_no].attempts = found
