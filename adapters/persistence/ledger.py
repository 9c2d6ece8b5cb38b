"""The ledger: one `ledger_entries` row per entry, written once and never changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, case, func, select
from sqlalchemy.exc import IntegrityError

from adapters.persistence.errors import is_unique_violation
from adapters.persistence.schema import ledger_entries as t
from adapters.persistence.sql import Repository
from application.errors import ConcurrentUpdate
from domain.ledger import Posting, Side


def entry_rows(posting: Posting) -> list[dict[str, Any]]:
    return [
        {
            "posting_id": posting.posting_id,
            "merchant_id": posting.merchant_id,
            "account": entry.account,
            "side": entry.side.value,
            "amount": entry.amount.amount,
            "currency": entry.amount.currency,
            "created_at": posting.created_at,
        }
        for entry in posting.entries
    ]


def balance_from_row(row: Row[Any]) -> tuple[tuple[str, str], int]:
    return (row.account, row.currency), int(row.balance)


_INSERT = t.insert()
_SIGNED = case((t.c.side == Side.DEBIT.value, t.c.amount), else_=-t.c.amount)
_BALANCES = select(t.c.account, t.c.currency, func.sum(_SIGNED).label("balance")).group_by(
    t.c.account, t.c.currency
)
_MERCHANT_BALANCES = _BALANCES.where(t.c.merchant_id == bindparam("m"))


class SqlLedgerRepository(Repository):
    """Append-only; PostgreSQL and SQLite triggers refuse UPDATE and DELETE as well.

    A posting id names the fact it records (`capture:pay_...`), so a second append of the
    same posting means another unit of work recorded it first: that surfaces as
    `ConcurrentUpdate` (reload and retry, which then finds the fact recorded).
    """

    __slots__ = ()

    async def append(self, postings: list[Posting]) -> None:
        rows = [row for posting in postings for row in entry_rows(posting)]
        if not rows:
            return
        try:
            await self._execute(_INSERT, rows)
        except IntegrityError as error:
            if is_unique_violation(error):
                ids = ", ".join(p.posting_id for p in postings)
                raise ConcurrentUpdate(f"posting already recorded: {ids}") from error
            raise

    async def balances(self, merchant_id: str | None = None) -> dict[tuple[str, str], int]:
        if merchant_id is None:
            result = await self._execute(_BALANCES)
        else:
            result = await self._execute(_MERCHANT_BALANCES, {"m": merchant_id})
        return dict(balance_from_row(row) for row in result)
