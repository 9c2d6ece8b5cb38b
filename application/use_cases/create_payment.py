"""Take a payment: risk, order, persist `pending` (refusing a duplicate), charge, record."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from application.charging import ChargeRecorder, charge_safely
from application.commands import CreatePaymentCommand
from application.errors import Unavailable
from application.following import follow_after, follow_within
from application.outbox import announce_created
from application.ports.channel import ChannelPort, Channels, ChargeRequest
from application.ports.external import OrderPort, OrderRequest, RiskPort, RiskRequest
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from domain.customer import CustomerContact
from domain.errors import DuplicateOrder, InvalidChannel
from domain.money import Money
from domain.payment import Payment, PaymentStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CreatePayment:
    """Every attempt that passes validation creates a payment, whatever its outcome.

    The charge happens outside any transaction: the payment is committed as `pending`
    first, so a crash mid-charge leaves a row the reconciler can resolve. A local order
    book writes the order in that same transaction; a remote one is called before it.
    Once the channel was asked, the answer is the payment: if its outcome cannot be
    written, it is answered `pending` as it stands (not a 503, which would say that nothing
    was written) and the reconciler records the outcome, with its webhook.
    """

    uow: UnitOfWorkFactory
    risk: RiskPort
    orders: OrderPort
    channels: Channels
    clock: Clock
    ids: IdGenerator
    recorder: ChargeRecorder

    async def __call__(self, command: CreatePaymentCommand) -> Payment:
        payment = self._new_payment(command)
        channel = self._channel(command.channel)
        contact = CustomerContact.of(email=command.email, ip=command.ip)
        joined = self.orders.shares_database
        if not joined:
            await self._refuse_duplicate(command)
        payment.apply_risk(
            await self.risk.assess(self._risk_request(payment, command, contact)),
            self.clock.now(),
        )
        order = self._order_request(payment, command)
        if not joined:
            await self.orders.create_order(order)
        if payment.status is PaymentStatus.REQUIRES_REVIEW:
            if joined:
                await self._refuse_duplicate(command)
            payment.payment_token = await channel.tokenize(command.card)
        async with self.uow() as uow:
            await uow.payments.add(payment)
            if joined:
                await self.orders.create_order(order, within=uow)
                await follow_within(self.orders, uow, payment)  # rejected by risk
            await announce_created(uow, self.ids, payment, payment.updated_at)
            await uow.commit()
        if payment.status is not PaymentStatus.PENDING:
            await follow_after(self.orders, payment)  # logs its own failure
            return payment
        result = await charge_safely(
            channel,
            ChargeRequest(
                payment.payment_no,
                payment.merchant_id,
                payment.amount,
                card=command.card,
                description=command.description,
            ),
            payment.capture_method,
        )
        as_committed = replace(payment)  # the recorder moves `payment` before it commits
        try:
            return await self.recorder.record(payment, result)
        except Exception as error:  # of any kind: the payment is committed (docs/adr/0028)
            log.error("payment %s was sent to its channel but its outcome (%s) could not be "
                      "recorded: %s; the reconciler will", payment.payment_no,
                      result.outcome.value, error, exc_info=not isinstance(error, Unavailable))
            return as_committed

    async def _refuse_duplicate(self, command: CreatePaymentCommand) -> None:
        """Look for the order's live or paid payment before calling out with the order_no.

        The database's unique index over an order's live or paid payments refuses a
        duplicate on insert anyway, so the look-up is only made before work a duplicate must
        not cause: a remote order book's new order, a card tokenized for review. A payment
        with a local order book and no review goes straight to its insert: a round trip
        less per payment. An order whose payments all ended unpaid takes a new attempt.
        """
        async with self.uow(read_only=True, snapshot=False) as uow:
            held = await uow.payments.get_by_order_no(command.merchant_id, command.order_no)
        if held is not None:
            raise DuplicateOrder(
                f"order_no {command.order_no!r} was already used by {held.payment_no}",
                order_no=held.order_no,
                payment_no=held.payment_no,
            )

    def _new_payment(self, command: CreatePaymentCommand) -> Payment:
        now = self.clock.now()
        return Payment(
            payment_no=self.ids.new_id("pay"),
            merchant_id=command.merchant_id,
            order_no=command.order_no,
            amount=Money.positive(command.amount, command.currency),
            channel=command.channel,
            created_at=now,
            updated_at=now,
            card=command.card.summary,
            description=command.description,
            notify_url=command.notify_url,
            customer_id=command.customer_id,
            metadata=dict(command.metadata),
            capture_method=command.capture_method,
        )

    def _channel(self, name: str) -> ChannelPort:
        channel = self.channels.get(name)
        if channel is None:
            raise InvalidChannel(f"unknown channel {name!r}; use one of {sorted(self.channels)}")
        return channel

    @staticmethod
    def _order_request(payment: Payment, command: CreatePaymentCommand) -> OrderRequest:
        return OrderRequest(
            payment.merchant_id,
            payment.order_no,
            payment.payment_no,
            payment.amount,
            command.description,
            command.metadata,
        )

    @staticmethod
    def _risk_request(
        payment: Payment, command: CreatePaymentCommand, contact: CustomerContact
    ) -> RiskRequest:
        return RiskRequest(
            payment.merchant_id,
            payment.payment_no,
            payment.order_no,
            payment.amount,
            card=command.card,
            customer_id=command.customer_id,
            email=contact.email,
            ip=contact.ip,
        )
