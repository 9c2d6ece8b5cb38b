"""Settle a merchant's finished UTC day: one settlement per currency, posted to the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.commands import SettleCommand
from application.errors import AlreadySettled, NotFound, ValidationFailed
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from domain.ledger import settlement_postings
from domain.operator import Action
from domain.settlement import DayActivity, Settlement, settle_day


@dataclass(frozen=True, slots=True)
class ProcessSettlement:
    """Settling a day twice settles nothing new: the first result is returned again."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    trail: AuditTrail

    async def __call__(self, command: SettleCommand) -> list[Settlement]:
        self.trail.check(command.actor, Action.SETTLEMENT_RUN)
        now = self.clock.now()
        if command.day >= now.date():
            raise ValidationFailed(f"{command.day} has not ended yet (UTC); settle a past day")
        try:
            return await self._settle(command)
        except AlreadySettled:
            async with self.uow(read_only=True) as uow:
                return await uow.settlements.list(command.merchant_id, command.day)

    async def _settle(self, command: SettleCommand) -> list[Settlement]:
        async with self.uow() as uow:
            merchant = await uow.merchants.get(command.merchant_id)
            if merchant is None:
                raise NotFound(f"no merchant {command.merchant_id}")
            existing = await uow.settlements.list(command.merchant_id, command.day)
            if existing:
                return existing
            activity = DayActivity(
                captures=tuple(await uow.payments.captured_on(command.merchant_id, command.day)),
                refunds=tuple(await uow.refunds.succeeded_on(command.merchant_id, command.day)),
            )
            settlements = settle_day(
                command.merchant_id,
                command.day,
                activity,
                merchant.fees,
                lambda: self.ids.new_id("stl"),
                self.clock.now(),
            )
            for settlement in settlements:
                await uow.settlements.add(settlement)
                await uow.ledger.append(settlement_postings(settlement, settlement.created_at))
            if settlements:
                await self.trail.record(
                    uow, command.actor, Action.SETTLEMENT_RUN,
                    AuditObject("merchant", command.merchant_id), None, "settled",
                    f"{command.day.isoformat()}: "
                    + ", ".join(f"{s.settlement_id} ({s.currency})" for s in settlements))
            await uow.commit()
            return settlements
