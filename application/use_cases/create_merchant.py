"""Onboard a merchant: its API key and the secrets it is shown exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.commands import CreateMerchantCommand
from application.errors import ValidationFailed
from application.ports.platform import Clock, IdGenerator, SecretVault
from application.ports.storage import UnitOfWorkFactory
from domain.merchant import Merchant
from domain.operator import Action
from domain.settlement import FeeSchedule


@dataclass(frozen=True, slots=True)
class NewMerchant:
    """The only place the plain secrets ever exist outside the merchant's own systems."""

    merchant: Merchant
    api_secret: str
    webhook_secret: str


@dataclass(frozen=True, slots=True)
class CreateMerchant:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    vault: SecretVault
    trail: AuditTrail

    async def __call__(self, command: CreateMerchantCommand) -> NewMerchant:
        self.trail.check(command.actor, Action.MERCHANT_CREATE)
        name = command.name.strip()
        if not 1 <= len(name) <= 200:
            raise ValidationFailed("name must be 1 to 200 characters")
        api_secret, webhook_secret = self.ids.new_secret(), self.ids.new_secret()
        merchant = Merchant(
            merchant_id=self.ids.new_id("mch"),
            name=name,
            api_key=self.ids.new_id("key"),
            api_secret_sealed=self.vault.seal(api_secret),
            webhook_secret_sealed=self.vault.seal(webhook_secret),
            created_at=self.clock.now(),
            fees=FeeSchedule(command.fee_basis_points, command.fee_fixed),
        )
        async with self.uow() as uow:
            await uow.merchants.add(merchant)
            await self.trail.record(uow, command.actor, Action.MERCHANT_CREATE,
                                    AuditObject("merchant", merchant.merchant_id), None, "active",
                                    merchant.name)
            await uow.commit()
        return NewMerchant(merchant, api_secret, webhook_secret)
