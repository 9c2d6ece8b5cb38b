"""An operator reads or replaces a merchant's routing rules (docs/adr/0025)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.errors import NotFound
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory
from domain.operator import Action, Actor
from domain.routing import RoutingRule, check_rules


@dataclass(frozen=True, slots=True)
class GetRouting:
    uow: UnitOfWorkFactory

    async def __call__(self, merchant_id: str) -> list[RoutingRule]:
        async with self.uow(read_only=True) as uow:
            if await uow.merchants.get(merchant_id) is None:
                raise NotFound(f"no merchant {merchant_id}")
            return await uow.routing.get(merchant_id)


@dataclass(frozen=True, slots=True)
class SetRouting:
    """All the rules are checked before anything is written: a bad one (an empty channel
    list, a channel this deployment does not have, bounds written backwards, more than
    100 rules) is refused and the merchant keeps the rules it had. The change is an admin's,
    recorded in the audit trail with the number of rules before and after."""

    uow: UnitOfWorkFactory
    clock: Clock
    channels: Collection[str]
    trail: AuditTrail

    async def __call__(
        self, merchant_id: str, rules: Sequence[RoutingRule], *, actor: Actor | None = None
    ) -> list[RoutingRule]:
        self.trail.check(actor, Action.MERCHANT_ROUTING)
        checked = list(check_rules(rules, self.channels))
        async with self.uow() as uow:
            if await uow.merchants.get(merchant_id) is None:
                raise NotFound(f"no merchant {merchant_id}")
            before = await uow.routing.get(merchant_id)
            await uow.routing.put(merchant_id, checked, self.clock.now())
            await self.trail.record(uow, actor, Action.MERCHANT_ROUTING,
                                    AuditObject("merchant", merchant_id),
                                    _rules(before), _rules(checked), None)
            await uow.commit()
        return checked


def _rules(rules: Sequence[RoutingRule]) -> str:
    return f"{len(rules)} rules" if len(rules) != 1 else "1 rule"
