"""An operator reads or replaces a merchant's routing rules (docs/adr/0025)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from application.errors import NotFound
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory
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
    100 rules) is refused and the merchant keeps the rules it had."""

    uow: UnitOfWorkFactory
    clock: Clock
    channels: Collection[str]

    async def __call__(self, merchant_id: str, rules: Sequence[RoutingRule]) -> list[RoutingRule]:
        checked = list(check_rules(rules, self.channels))
        async with self.uow() as uow:
            if await uow.merchants.get(merchant_id) is None:
                raise NotFound(f"no merchant {merchant_id}")
            await uow.routing.put(merchant_id, checked, self.clock.now())
            await uow.commit()
        return checked
