"""The operators and audit_log tables: `SqlOperatorRepository`, `SqlAuditRepository`.

The audit repository has no update or delete: the trail is append-only (docs/adr/0030).
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Row, bindparam, select, update

from adapters.persistence.schema import audit_log as a
from adapters.persistence.schema import operators as t
from adapters.persistence.sql import InsertIgnoring, Repository, newest_first, page_of
from application.errors import DuplicateName
from application.ports.storage import AuditQuery, Cursor, Page
from domain.operator import Action, AuditEntry, Operator, Role


def operator_from_row(r: Row[Any]) -> Operator:
    return Operator(operator_id=r.operator_id, name=r.name, role=Role(r.role),
                    token_hash=r.token_hash, created_at=r.created_at, active=bool(r.active),
                    disabled_at=r.disabled_at)


def entry_to_row(e: AuditEntry) -> dict[str, Any]:
    return {"entry_id": e.entry_id, "actor": e.actor, "role": e.role.value,
            "action": e.action.value, "object_type": e.object_type, "object_id": e.object_id,
            "before_status": e.before, "after_status": e.after, "reason": e.reason,
            "trace_id": e.trace_id, "created_at": e.created_at}


def entry_from_row(r: Row[Any]) -> AuditEntry:
    return AuditEntry(entry_id=r.entry_id, actor=r.actor, role=Role(r.role),
                      action=Action(r.action), object_type=r.object_type, object_id=r.object_id,
                      before=r.before_status, after=r.after_status, reason=r.reason,
                      trace_id=r.trace_id, created_at=r.created_at)


_INSERT = InsertIgnoring(t, "name")
_BY_NAME = select(t).where(t.c.name == bindparam("n"))
_BY_TOKEN = select(t).where(t.c.token_hash == bindparam("h"))
_UPDATE = (update(t).where(t.c.operator_id == bindparam("o"))
           .values(active=bindparam("a"), disabled_at=bindparam("d")))
_ALL = select(t).order_by(t.c.created_at, t.c.name)
_APPEND = a.insert()


class SqlOperatorRepository(Repository):
    __slots__ = ()

    async def add(self, operator: Operator) -> None:
        row = {"operator_id": operator.operator_id, "name": operator.name,
               "role": operator.role.value, "token_hash": operator.token_hash,
               "active": operator.active, "created_at": operator.created_at,
               "disabled_at": operator.disabled_at}
        if (await self._execute(_INSERT.on(self.dialect), row)).rowcount == 0:
            raise DuplicateName(f"an operator named {operator.name} exists already")

    async def get_by_name(self, name: str) -> Operator | None:
        row = (await self._execute(_BY_NAME, {"n": name})).first()
        return None if row is None else operator_from_row(row)

    async def get_by_token_hash(self, token_hash: str) -> Operator | None:
        row = (await self._execute(_BY_TOKEN, {"h": token_hash})).first()
        return None if row is None else operator_from_row(row)

    async def update(self, operator: Operator) -> None:
        await self._execute(_UPDATE, {"o": operator.operator_id, "a": operator.active,
                                      "d": operator.disabled_at})

    async def list(self) -> builtins.list[Operator]:
        return [operator_from_row(row) for row in await self._execute(_ALL)]


class SqlAuditRepository(Repository):
    __slots__ = ()

    async def add(self, entry: AuditEntry) -> None:
        await self._execute(_APPEND, entry_to_row(entry))

    async def list(self, query: AuditQuery) -> Page[AuditEntry]:
        statement = select(a)
        if query.actor is not None:
            statement = statement.where(a.c.actor == query.actor)
        if query.object_id is not None:
            statement = statement.where(a.c.object_id == query.object_id)
        if query.created_from is not None:
            statement = statement.where(a.c.created_at >= query.created_from)
        if query.created_to is not None:
            statement = statement.where(a.c.created_at < query.created_to)
        statement = newest_first(statement, a.c.created_at, a.c.entry_id, query.cursor,
                                 query.limit)
        items = [entry_from_row(row) for row in await self._execute(statement)]
        return page_of(items, query.limit, lambda e: Cursor(e.created_at, e.entry_id))
