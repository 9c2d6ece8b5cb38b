"""The use cases wired to fakes by the composition root itself (`compose`), as the
container wires them to adapters."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from application.auditing import AuditTrail
from application.charging import ChargeRecorder
from application.commands import (
    CancelPaymentCommand,
    CapturePaymentCommand,
    CreateMerchantCommand,
    CreatePaymentCommand,
    CreateRefundCommand,
    ReviewPaymentCommand,
)
from application.holding import MoveRecorder
from application.ports.channel import ChannelEvent
from application.refunding import RefundOutcome, RefundRecorder
from application.use_cases.cancel_payment import CancelPayment
from application.use_cases.capture_payment import CapturePayment
from application.use_cases.create_merchant import CreateMerchant, NewMerchant
from application.use_cases.create_payment import CreatePayment
from application.use_cases.create_refund import CreateRefund
from application.use_cases.create_webhook_endpoint import (
    CreateEndpointCommand,
    CreateWebhookEndpoint,
    NewSecret,
)
from application.use_cases.delete_webhook_endpoint import DeleteWebhookEndpoint
from application.use_cases.deliver_webhooks import DeliverWebhooks
from application.use_cases.expire_authorizations import ExpireAuthorizations
from application.use_cases.get_event import GetEvent
from application.use_cases.get_payment import GetPayment
from application.use_cases.get_refund import GetRefund
from application.use_cases.get_webhook_endpoints import GetWebhookEndpoint, ListWebhookEndpoints
from application.use_cases.handle_notification import HandleChannelNotification
from application.use_cases.list_event_deliveries import ListEventDeliveries
from application.use_cases.list_events import ListEvents
from application.use_cases.list_payments import ListPayments
from application.use_cases.list_refunds import ListRefunds
from application.use_cases.process_settlement import ProcessSettlement
from application.use_cases.publish_events import PublishEvents
from application.use_cases.reconcile import ReconcilePayments
from application.use_cases.redeliver_event import RedeliverEvent
from application.use_cases.retry_webhook import RetryWebhook
from application.use_cases.review_payment import ReviewPayment
from application.use_cases.rotate_webhook_secret import RotateWebhookSecret
from domain.authorization import CaptureMethod
from domain.card import CardDetails
from domain.ledger import Side, merchant_balance
from domain.money import Money
from domain.payment import Payment
from entrypoints.composition import Ports, Services, compose
from tests.unit.fakes.channel import SUCCEEDS, FakeChannel
from tests.unit.fakes.external import FakeOrders, FakeRisk
from tests.unit.fakes.idempotency import FakeIdempotencyStore
from tests.unit.fakes.platform import (
    FakeClock,
    FakeDestinations,
    FakeVault,
    FakeWebhookSender,
    SequentialIds,
)
from tests.unit.fakes.storage import FakeDatabase, FakeUnitOfWorkFactory


def card(number: str = SUCCEEDS) -> CardDetails:
    return CardDetails(number=number, exp_month=12, exp_year=2030, cvc="123")


@dataclass
class Gateway:
    db: FakeDatabase = field(default_factory=FakeDatabase)
    clock: FakeClock = field(default_factory=FakeClock)
    ids: SequentialIds = field(default_factory=SequentialIds)
    vault: FakeVault = field(default_factory=FakeVault)
    sender: FakeWebhookSender = field(default_factory=FakeWebhookSender)
    destinations: FakeDestinations = field(default_factory=FakeDestinations)
    idempotency_store: FakeIdempotencyStore = field(default_factory=FakeIdempotencyStore)
    risk: FakeRisk = field(init=False)
    orders: FakeOrders = field(init=False)
    channel: FakeChannel = field(init=False)
    merchants: dict[str, NewMerchant] = field(default_factory=dict)
    trace_id: str | None = None  # what the audit trail records as the current trace
    others: dict[str, FakeChannel] = field(default_factory=dict)  # channels besides sandbox
    default_route: tuple[str, ...] = ("sandbox",)
    _orders: count[int] = field(default_factory=lambda: count(1))

    def __post_init__(self) -> None:
        self.risk = FakeRisk(db=self.db)
        self.orders = FakeOrders(db=self.db)
        self.channel = FakeChannel("sandbox", db=self.db)

    # -- wiring --------------------------------------------------------------------------
    @property
    def uow(self) -> FakeUnitOfWorkFactory:
        return FakeUnitOfWorkFactory(self.db)

    @property
    def channels(self) -> dict[str, FakeChannel]:
        return {self.channel.name: self.channel, **self.others}

    def add_channel(self, name: str) -> FakeChannel:
        self.others[name] = FakeChannel(name, db=self.db)
        return self.others[name]

    @property
    def charge_recorder(self) -> ChargeRecorder:
        return ChargeRecorder(self.uow, self.clock, self.ids, self.orders)

    @property
    def refund_recorder(self) -> RefundRecorder:
        return RefundRecorder(self.uow, self.clock, self.ids)

    @property
    def trail(self) -> AuditTrail:
        return AuditTrail(self.clock, self.ids, lambda: self.trace_id)

    @property
    def move_recorder(self) -> MoveRecorder:
        return MoveRecorder(self.uow, self.clock, self.ids, self.orders)

    @property
    def ports(self) -> Ports:
        return Ports(
            uow=self.uow,
            clock=self.clock,
            ids=self.ids,
            vault=self.vault,
            risk=self.risk,
            orders=self.orders,
            channels=self.channels,
            webhook_sender=self.sender,
            destinations=self.destinations,
            idempotency_store=self.idempotency_store,
            trace_id=lambda: self.trace_id,
            default_route=self.default_route,
        )

    @property
    def services(self) -> Services:
        """The use cases, built by the composition root from the fakes as they are now."""
        return compose(self.ports)

    @property
    def create_payment(self) -> CreatePayment:
        return self.services.create_payment

    @property
    def review_payment(self) -> ReviewPayment:
        return self.services.review_payment

    @property
    def create_refund(self) -> CreateRefund:
        return self.services.create_refund

    @property
    def handle_notification(self) -> HandleChannelNotification:
        return self.services.handle_notification

    @property
    def reconcile(self) -> ReconcilePayments:
        return self.services.reconcile

    @property
    def settle(self) -> ProcessSettlement:
        return self.services.process_settlement

    @property
    def create_merchant(self) -> CreateMerchant:
        return self.services.create_merchant

    @property
    def deliver_webhooks(self) -> DeliverWebhooks:
        return self.services.deliver_webhooks

    @property
    def retry_webhook(self) -> RetryWebhook:
        return self.services.retry_webhook

    @property
    def get_payment(self) -> GetPayment:
        return self.services.get_payment

    @property
    def get_refund(self) -> GetRefund:
        return self.services.get_refund

    @property
    def list_payments(self) -> ListPayments:
        return self.services.list_payments

    @property
    def list_refunds(self) -> ListRefunds:
        return self.services.list_refunds

    @property
    def capture_payment(self) -> CapturePayment:
        return self.services.capture_payment

    @property
    def cancel_payment(self) -> CancelPayment:
        return self.services.cancel_payment

    @property
    def expire_authorizations(self) -> ExpireAuthorizations:
        return self.services.expire_authorizations

    @property
    def publish_events(self) -> PublishEvents:
        return self.services.publish_events

    @property
    def list_events(self) -> ListEvents:
        return self.services.list_events

    @property
    def get_event(self) -> GetEvent:
        return self.services.get_event

    @property
    def create_endpoint(self) -> CreateWebhookEndpoint:
        return self.services.create_webhook_endpoint

    @property
    def list_endpoints(self) -> ListWebhookEndpoints:
        return self.services.list_webhook_endpoints

    @property
    def get_endpoint(self) -> GetWebhookEndpoint:
        return self.services.get_webhook_endpoint

    @property
    def delete_endpoint(self) -> DeleteWebhookEndpoint:
        return self.services.delete_webhook_endpoint

    @property
    def rotate_secret(self) -> RotateWebhookSecret:
        return self.services.rotate_webhook_secret

    @property
    def list_deliveries(self) -> ListEventDeliveries:
        return self.services.list_event_deliveries

    @property
    def redeliver(self) -> RedeliverEvent:
        return self.services.redeliver_event

    # -- shortcuts -----------------------------------------------------------------------
    async def onboard(self, name: str = "Acme", basis_points: int = 290, fixed: int = 30) -> str:
        command = CreateMerchantCommand(name=name, fee_basis_points=basis_points, fee_fixed=fixed)
        new = await self.create_merchant(command)
        self.merchants[new.merchant.merchant_id] = new
        return new.merchant.merchant_id

    def payment_command(self, merchant_id: str, **overrides: Any) -> CreatePaymentCommand:
        values: dict[str, Any] = {
            "merchant_id": merchant_id,
            "order_no": f"ORDER-{next(self._orders):04d}",
            "amount": 10_000,
            "currency": "USD",
            "channel": self.channel.name,
            "card": card(),
        }
        values.update(overrides)
        return CreatePaymentCommand(**values)

    async def pay(self, merchant_id: str, number: str = SUCCEEDS, **overrides: Any) -> Payment:
        return await self.create_payment(
            self.payment_command(merchant_id, card=card(number), **overrides)
        )

    async def store_pending_payment(self, merchant_id: str, **overrides: Any) -> str:
        """A payment committed as `pending` whose charge never happened (a crash)."""
        command = self.payment_command(merchant_id, **overrides)
        now = self.clock.now()
        payment = Payment(
            payment_no=self.ids.new_id("pay"),
            merchant_id=merchant_id,
            order_no=command.order_no,
            amount=Money(command.amount, command.currency),
            channel=command.channel,
            created_at=now,
            updated_at=now,
            card=command.card.summary,
        )
        async with self.uow() as uow:
            await uow.payments.add(payment)
            await uow.commit()
        return payment.payment_no

    async def endpoint(
        self, merchant_id: str, *events: str, url: str = "https://hooks.merchant.example/in"
    ) -> NewSecret:
        command = CreateEndpointCommand(
            merchant_id=merchant_id, url=url, events=list(events) or ["*"]
        )
        return await self.create_endpoint(command)

    async def authorize(
        self, merchant_id: str, number: str = SUCCEEDS, **overrides: Any
    ) -> Payment:
        """A manual payment: authorized only, unless the card or the script says otherwise."""
        return await self.pay(merchant_id, number, capture_method=CaptureMethod.MANUAL, **overrides)

    async def capture(
        self, payment_no: str, amount: Any = None, merchant_id: str | None = None
    ) -> Payment:
        return await self.capture_payment(
            CapturePaymentCommand(payment_no=payment_no, merchant_id=merchant_id, amount=amount)
        )

    async def cancel(
        self, payment_no: str, reason: str | None = None, merchant_id: str | None = None
    ) -> Payment:
        return await self.cancel_payment(
            CancelPaymentCommand(payment_no=payment_no, merchant_id=merchant_id, reason=reason)
        )

    async def refund(
        self, payment_no: str, amount: Any = None, merchant_id: str | None = None
    ) -> RefundOutcome:
        return await self.create_refund(
            CreateRefundCommand(payment_no=payment_no, merchant_id=merchant_id, amount=amount)
        )

    async def review(self, payment_no: str, decision: Any, note: str | None = None) -> Payment:
        return await self.review_payment(
            ReviewPaymentCommand(payment_no=payment_no, decision=decision, note=note)
        )

    async def notify(
        self,
        kind: str,
        payment_no: str,
        refund_no: str | None = None,
        failure_code: str | None = None,
        channel: str | None = None,
    ) -> bool:
        event = ChannelEvent(
            self.ids.new_id("evt"), kind, payment_no, refund_no, None, failure_code
        )
        return await self.handle_notification(channel or self.channel.name, event)

    # -- the books -----------------------------------------------------------------------
    def debits_and_credits(self) -> dict[str, tuple[int, int]]:
        """(sum of debits, sum of credits) per currency over every committed entry."""
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for posting in self.db.postings:
            for entry in posting.entries:
                totals[entry.amount.currency][entry.side is Side.CREDIT] += entry.amount.amount
        return {currency: (debit, credit) for currency, (debit, credit) in totals.items()}

    def merchant_balance(self, merchant_id: str, currency: str) -> int:
        """What the gateway owes the merchant: credits minus debits of its balance account."""
        return -self.db.account_balance(merchant_balance(merchant_id), currency)
