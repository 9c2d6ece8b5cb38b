"""The payments' status indexes are partial (migration 0010): they hold the payments the
reconciler and the expiry worker look for, and those workers' queries use them; so does
the publisher's, on the payments whose events wait (migration 0011)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.outbox import _FIRST_WAITING, _WAITING
from adapters.persistence.payments import _EXPIRING, _MOVES_UNANSWERED, _UNRESOLVED
from adapters.persistence.schema import HELD_STATUS, UNRESOLVED_STATUS
from domain.payment import UNRESOLVED, PaymentStatus

pytestmark = pytest.mark.usefixtures("migrated_url")


def _statuses(predicate: str) -> set[str]:
    return set(re.findall(r"'([a-z_]+)'", predicate))


def test_the_predicates_name_the_domains_statuses() -> None:
    assert _statuses(str(UNRESOLVED_STATUS)) == {s.value for s in UNRESOLVED}
    assert _statuses(str(HELD_STATUS)) == {PaymentStatus.REQUIRES_CAPTURE.value}


@pytest.mark.parametrize(("query", "index"), [
    (_UNRESOLVED, "ix_payments_unresolved"),
    (_EXPIRING, "ix_payments_expiring"),
    (_MOVES_UNANSWERED, "ix_payments_expiring"),
    (_WAITING, "ix_payments_unpublished"),  # the publisher, every 0.2 s
    (_FIRST_WAITING, "ix_payments_unpublished"),  # the outbox lag, at every scrape
])
async def test_the_workers_queries_use_the_partial_indexes(
    engine: AsyncEngine, query: object, index: str
) -> None:
    async with engine.connect() as conn:
        compiled = query.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
        if engine.dialect.name == "sqlite":
            sql = str(compiled).replace("?", "NULL")
            plan = "\n".join(
                str(row[-1]) for row in await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        else:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            # each parameter by its name: a limit (named, or a literal one) is 10, any other
            # an instant
            sql = str(compiled.string)
            for n, name in reversed(list(enumerate(compiled.positiontup, 1))):
                sql = sql.replace(f"${n}", "10" if name.startswith(("limit", "param")) else "now()")
            plan = "\n".join(
                str(row[0]) for row in await conn.execute(text(f"EXPLAIN {sql}")))

    assert index in plan, plan


@pytest.mark.parametrize(("index", "statuses"), [
    ("ix_payments_unresolved", {"pending", "processing"}),
    ("ix_payments_expiring", {"requires_capture"}),
])
async def test_the_migrated_indexes_hold_only_those_statuses(
    engine: AsyncEngine, index: str, statuses: set[str]
) -> None:
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
        else:
            # other tests' schemas hold an index of the same name while they run
            found = ("SELECT indexdef FROM pg_indexes"
                     " WHERE indexname = :name AND schemaname = current_schema()")
        (definition,) = (await conn.execute(text(found), {"name": index})).one()

    _, _, predicate = definition.upper().partition(" WHERE ")
    assert _statuses(predicate.lower()) == statuses, definition
