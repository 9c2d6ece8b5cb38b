"""Admins give people named credentials, list them and take them away.

A token is shown once, when it is made; paygate keeps only its hash. A disabled operator
keeps its name (the trail names it) and its token stops working at once.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.errors import NotFound, ValidationFailed
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from domain.operator import TOKEN_PREFIX, Action, Actor, Operator, Role, check_name, token_hash


@dataclass(frozen=True, slots=True)
class NewOperator:
    operator: Operator
    token: str  # the only time it exists outside the operator's hands


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError as error:
        raise ValidationFailed(f"role must be one of {[r.value for r in Role]}") from error


@dataclass(frozen=True, slots=True)
class CreateOperator:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    trail: AuditTrail

    async def __call__(self, actor: Actor, name: str, role: str) -> NewOperator:
        actor.require(Action.OPERATOR_CREATE)
        token = TOKEN_PREFIX + self.ids.new_secret()
        operator = Operator(operator_id=self.ids.new_id("opr"), name=check_name(name),
                            role=_role(role), token_hash=token_hash(token),
                            created_at=self.clock.now())
        async with self.uow() as uow:
            await uow.operators.add(operator)
            await self.trail.record(uow, actor, Action.OPERATOR_CREATE,
                                    AuditObject("operator", operator.name), None,
                                    operator.status, f"role {operator.role}")
            await uow.commit()
        return NewOperator(operator, token)


@dataclass(frozen=True, slots=True)
class DisableOperator:
    uow: UnitOfWorkFactory
    clock: Clock
    trail: AuditTrail

    async def __call__(self, actor: Actor, name: str, reason: str | None = None) -> Operator:
        actor.require(Action.OPERATOR_DISABLE)
        async with self.uow() as uow:
            operator = await uow.operators.get_by_name(name)
            if operator is None:
                raise NotFound(f"no operator {name}")
            if operator.active:
                operator.disable(self.clock.now())
                await uow.operators.update(operator)
                await self.trail.record(uow, actor, Action.OPERATOR_DISABLE,
                                        AuditObject("operator", name), "active",
                                        operator.status, reason)
                await uow.commit()
            return operator


@dataclass(frozen=True, slots=True)
class ListOperators:
    uow: UnitOfWorkFactory

    async def __call__(self) -> builtins.list[Operator]:
        async with self.uow(read_only=True) as uow:
            return await uow.operators.list()
