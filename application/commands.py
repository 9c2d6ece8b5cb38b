"""The inputs of the use cases: plain values, validated by the domain when used."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from domain.authorization import CaptureMethod
from domain.card import CardDetails
from domain.operator import Actor


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatePaymentCommand:
    merchant_id: str
    order_no: str
    amount: Any  # checked by Money: an int of minor units, nothing else
    currency: str
    channel: str | None  # None: routed by the merchant's rules (docs/adr/0025)
    card: CardDetails
    customer_id: str | None = None
    email: str | None = None
    ip: str | None = None
    description: str | None = None
    notify_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC


@dataclass(frozen=True, slots=True, kw_only=True)
class CapturePaymentCommand:
    """`merchant_id=None` is an operator acting on any merchant's payment."""

    payment_no: str
    merchant_id: str | None
    amount: Any = None  # None captures everything held; less releases the rest
    actor: Actor | None = None  # the operator, checked and audited; None: the merchant


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelPaymentCommand:
    """`on_expiry`: the worker voiding a hold that lapsed, not a merchant's cancel."""

    payment_no: str
    merchant_id: str | None
    reason: str | None = None
    on_expiry: bool = False
    actor: Actor | None = None  # the operator, checked and audited; None: merchant or worker


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewPaymentCommand:
    payment_no: str
    decision: Literal["approve", "reject"]
    note: str | None = None
    actor: Actor | None = None  # the operator deciding, checked and audited


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateRefundCommand:
    """`merchant_id=None` is an operator acting on any merchant's payment."""

    payment_no: str
    merchant_id: str | None
    amount: Any = None  # None refunds everything that is left
    reason: str | None = None
    request_key: str | None = None  # the Idempotency-Key: one refund per key and payment
    actor: Actor | None = None  # the operator, checked and audited; None: the merchant


@dataclass(frozen=True, slots=True, kw_only=True)
class SettleCommand:
    merchant_id: str
    day: date
    actor: Actor | None = None  # the operator settling, checked and audited


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateMerchantCommand:
    name: str
    fee_basis_points: int = 290
    fee_fixed: int = 30
    actor: Actor | None = None  # the operator onboarding it, checked and audited
