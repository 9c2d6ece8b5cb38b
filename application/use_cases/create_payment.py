"""Take a payment: risk, order, persist `pending` (refusing a duplicate), charge, record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from application.charging import ChargeRecorder, charge_safely
from application.commands import CreatePaymentCommand
from application.errors import Unavailable
from application.following import follow_after, follow_within
from application.outbox import created_entry
from application.ports.channel import ChannelPort, Channels, ChargeRequest, ChargeResult
from application.ports.external import OrderPort, OrderRequest, RiskPort, RiskRequest
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from domain.customer import CustomerContact
from domain.errors import DuplicateOrder, InvalidChannel
from domain.money import Money
from domain.payment import Payment, PaymentStatus
from domain.routing import AttemptOutcome, classify, may_fail_over, route

log = logging.getLogger(__name__)

FailoverListener = Callable[[str, str, str], None]
"""Told of each failover: (from channel, to channel, reason: the failure class)."""


def _unheard(from_channel: str, to_channel: str, reason: str) -> None:
    """Nothing listens to failovers."""


DEFAULT_ROUTE = ("sandbox",)


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
    default_route: tuple[str, ...] = DEFAULT_ROUTE
    on_failover: FailoverListener = _unheard

    async def __call__(self, command: CreatePaymentCommand) -> Payment:
        """A payment that names its channel goes there and nowhere else; one that does
        not is routed by its merchant's rules (docs/adr/0025) and may fail over to the
        next channel of its route only when the previous one certainly charged nothing
        (docs/adr/0026)."""
        if command.channel is None:
            route_ = await self._route(command)
            first = route_[0]
        else:
            route_ = ()
            first = command.channel
        payment = self._new_payment(command, first)
        channel = self._channel(first)
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
            # its card token is the first channel's: charged there alone once approved
            payment.payment_token = await channel.tokenize(command.card)
        elif route_ and payment.status is PaymentStatus.PENDING:
            payment.begin_attempt(first, payment.created_at)
        async with self.uow() as uow:
            await uow.payments.add(
                payment, announce=created_entry(self.ids, payment, payment.updated_at))
            if payment.routed:
                await uow.attempts.add(payment.attempts[-1])
            if joined:
                await self.orders.create_order(order, within=uow)
                await follow_within(self.orders, uow, payment)  # rejected by risk
            await uow.commit()
        if payment.status is not PaymentStatus.PENDING:
            await follow_after(self.orders, payment)  # logs its own failure
            return payment
        result = await self._charge(channel, payment, command)
        for fallback in route_[1:]:
            failure = classify(result.outcome, result.failure_code)
            if not may_fail_over(failure):
                break
            assert failure is not None
            try:
                await self._fail_over(payment, result, fallback)
            except Unavailable as error:
                log.error("payment %s could not fail over from %s to %s: %s", payment.payment_no,
                          payment.channel, fallback, error)
                break  # recorded below as the last attempt's failure, if it can be
            self.on_failover(payment.attempts[-2].channel, fallback, failure.value)
            result = await self._charge(self._channel(fallback), payment, command)
        as_committed = payment.snapshot()  # the recorder moves `payment` before it commits
        try:
            return await self.recorder.record(payment, result)
        except Exception as error:  # of any kind: the payment is committed (docs/adr/0028)
            log.error("payment %s was sent to its channel but its outcome (%s) could not be "
                      "recorded: %s; the reconciler will", payment.payment_no,
                      result.outcome.value, error, exc_info=not isinstance(error, Unavailable))
            return as_committed

    async def _charge(
        self, channel: ChannelPort, payment: Payment, command: CreatePaymentCommand
    ) -> ChargeResult:
        return await charge_safely(
            channel,
            ChargeRequest(
                payment.payment_no,
                payment.merchant_id,
                payment.amount,
                card=command.card,
                description=command.description,
                attempt_key=payment.current_key if payment.attempt > 1 else None,
            ),
            payment.capture_method,
        )

    async def _fail_over(self, payment: Payment, result: ChargeResult, to: str) -> None:
        """End the attempt that charged nothing and write the next one, in one transaction,
        before the next channel is called: a crash after it leaves an attempt the
        reconciler asks that channel about, under that attempt's key."""
        now = self.clock.now()
        before = (payment.attempt, payment.channel, payment.updated_at, payment.version)
        try:
            async with self.uow() as uow:
                ended = payment.end_attempt(AttemptOutcome.FAILED, result.failure_code)
                assert ended is not None
                await uow.attempts.update(ended)
                await uow.attempts.add(payment.begin_attempt(to, now))
                payment.updated_at = now
                await uow.payments.update(payment)
                await uow.commit()
        except BaseException:  # nothing was written: the payment is as it was
            payment.attempt, payment.channel, payment.updated_at, payment.version = before
            del payment.attempts[payment.attempt:]
            payment.attempts[-1].end(AttemptOutcome.PENDING, None)
            raise

    async def _route(self, command: CreatePaymentCommand) -> tuple[str, ...]:
        """The merchant's first matching rule's channels, or the default route, less any
        channel this deployment no longer has (a rule is checked when it is set)."""
        async with self.uow(read_only=True, snapshot=False) as uow:
            rules = await uow.routing.get(command.merchant_id)
        chosen = route(rules, self.default_route, Money.positive(command.amount,
                                                                 command.currency),
                       command.card.summary.brand)
        usable = tuple(name for name in chosen if name in self.channels)
        if not usable:
            raise InvalidChannel(f"no channel of the route {list(chosen)} is configured; "
                                 f"this deployment has {sorted(self.channels)}")
        return usable

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

    def _new_payment(self, command: CreatePaymentCommand, channel: str) -> Payment:
        now = self.clock.now()
        return Payment(
            payment_no=self.ids.new_id("pay"),
            merchant_id=command.merchant_id,
            order_no=command.order_no,
            amount=Money.positive(command.amount, command.currency),
            channel=channel,
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
