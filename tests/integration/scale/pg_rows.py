"""Read-only queries on the PostgreSQL schema the gateways share, over asyncpg directly,
so a test sees what the processes committed, not what they answered."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine import make_url


class PgRows:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._connect: dict[str, Any] = {
            "host": parsed.host or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": parsed.username,
            "password": parsed.password,
            "database": parsed.database,
            "timeout": 5,
        }
        schema = parsed.query.get("search_path")
        if schema:
            self._connect["server_settings"] = {"search_path": str(schema)}

    async def all(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(**self._connect)
        try:
            return [tuple(row) for row in await conn.fetch(sql, *params)]
        finally:
            await conn.close()

    async def value(self, sql: str, *params: Any) -> Any:
        [row] = await self.all(sql, *params)
        return row[0]

    async def ledger_balanced(self) -> bool:
        """Debits equal credits in every posting."""
        unbalanced = await self.all(
            "SELECT posting_id FROM ledger_entries GROUP BY posting_id "
            "HAVING sum(CASE WHEN side = 'debit' THEN amount ELSE -amount END) <> 0"
        )
        return unbalanced == []

    async def captures_per_payment(self) -> dict[str, int]:
        """How many capture postings each payment has in the ledger."""
        rows = await self.all(
            "SELECT substr(posting_id, 9), count(DISTINCT posting_id) FROM ledger_entries "
            "WHERE posting_id LIKE 'capture:%' GROUP BY 1"
        )
        return {payment_no: int(count) for payment_no, count in rows}
