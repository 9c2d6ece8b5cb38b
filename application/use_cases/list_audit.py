"""Read the audit trail, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import ValidationFailed
from application.pagination import check_limit
from application.ports.storage import AuditQuery, Page, UnitOfWorkFactory
from domain.operator import AuditEntry


@dataclass(frozen=True, slots=True)
class ListAudit:
    uow: UnitOfWorkFactory

    async def __call__(self, query: AuditQuery) -> Page[AuditEntry]:
        check_limit(query.limit)
        if query.created_from and query.created_to and query.created_from >= query.created_to:
            raise ValidationFailed("from must be before to")
        async with self.uow(read_only=True) as uow:
            return await uow.audit.list(query)
