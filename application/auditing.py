"""The audit trail: one row per operator action, written in the unit of work of the change.

A use case that changes state for an operator checks the operator's role first
(`Actor.require`, before anything is read or written) and records the action with
`AuditTrail.record` before its `commit()`: the row commits with the change or rolls back
with it, so the trail never names a change that did not happen, nor misses one that did.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.platform import Clock, IdGenerator, TraceIds
from application.ports.storage import UnitOfWork
from domain.operator import Action, Actor, AuditEntry

REASON_LIMIT = 500


@dataclass(frozen=True, slots=True)
class AuditObject:
    """What an action was done to: `payment pay_...`, `merchant mch_...`."""

    type: str
    id: str


@dataclass(frozen=True, slots=True)
class AuditTrail:
    clock: Clock
    ids: IdGenerator
    trace_id: TraceIds

    @staticmethod
    def check(actor: Actor | None, action: Action) -> None:
        """Before anything is read or written: `Forbidden` unless the operator may."""
        if actor is not None:
            actor.require(action)

    async def record(
        self,
        uow: UnitOfWork,
        actor: Actor | None,
        action: Action,
        target: AuditObject,
        before: str | None,
        after: str | None,
        reason: str | None = None,
    ) -> AuditEntry | None:
        """Add the row to `uow`, to be committed with the change it describes; nothing
        when no operator acts (a merchant's own request, the worker)."""
        if actor is None:
            return None
        entry = AuditEntry(
            entry_id=self.ids.new_id("aud"),
            actor=actor.name,
            role=actor.role,
            action=action,
            object_type=target.type,
            object_id=target.id,
            before=None if before is None else str(before),
            after=None if after is None else str(after),
            reason=None if reason is None else reason[:REASON_LIMIT],
            trace_id=self.trace_id(),
            created_at=self.clock.now(),
        )
        await uow.audit.add(entry)
        return entry
