"""An operator suspends a merchant, or lets it back in.

A disabled merchant's API calls are refused with 403 `forbidden` (each process caches
credentials for up to a minute, so that is how long it takes). What is under way goes on:
notifications settle its payments, the reconciler resolves them, webhooks are delivered,
days are settled, and an operator can still refund its payments.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.errors import NotFound
from application.ports.storage import UnitOfWorkFactory
from domain.merchant import Merchant
from domain.operator import Action, Actor


@dataclass(frozen=True, slots=True)
class SetMerchantActive:
    uow: UnitOfWorkFactory
    trail: AuditTrail

    async def __call__(self, merchant_id: str, *, active: bool, actor: Actor | None = None,
                       reason: str | None = None) -> Merchant:
        action = Action.MERCHANT_ENABLE if active else Action.MERCHANT_DISABLE
        self.trail.check(actor, action)
        async with self.uow() as uow:
            merchant = await uow.merchants.get(merchant_id)
            if merchant is None:
                raise NotFound(f"no merchant {merchant_id}")
            if merchant.active != active:
                await uow.merchants.set_active(merchant_id, active)
                await self.trail.record(uow, actor, action, AuditObject("merchant", merchant_id),
                                        _state(merchant.active), _state(active), reason)
                await uow.commit()
                merchant.active = active
            return merchant


def _state(active: bool) -> str:
    return "active" if active else "disabled"
