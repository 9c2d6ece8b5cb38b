"""Who is asking: an admin API bearer token, or the name a CLI command is run under."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from application.errors import NotFound
from application.ports.storage import UnitOfWorkFactory
from domain.errors import Forbidden
from domain.operator import BOOTSTRAP, BOOTSTRAP_ACTOR, Actor, token_hash


@dataclass(frozen=True, slots=True)
class IdentifyOperator:
    """`by_token`: the actor an active operator's token stands for, or None (unknown or
    disabled: the caller answers 401). `by_name`: the actor a CLI command records; the
    CLI runs with the database and the master key, so the name is an attribution made by
    whoever holds them, not a proof (docs/adr/0029)."""

    uow: UnitOfWorkFactory

    async def by_token(self, token: str) -> Actor | None:
        digest = token_hash(token)
        async with self.uow(read_only=True, snapshot=False) as uow:
            operator = await uow.operators.get_by_token_hash(digest)
        if operator is None or not operator.active:
            return None
        if not hmac.compare_digest(operator.token_hash, digest):
            return None
        return operator.actor

    async def by_name(self, name: str) -> Actor:
        if name == BOOTSTRAP:
            return BOOTSTRAP_ACTOR
        async with self.uow(read_only=True, snapshot=False) as uow:
            operator = await uow.operators.get_by_name(name)
        if operator is None:
            raise NotFound(f"no operator {name}: `paygate operators list` names them")
        if not operator.active:
            raise Forbidden(f"operator {name} is disabled")
        return operator.actor
