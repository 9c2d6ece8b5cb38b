"""Builders of domain objects, and dialect selectors, for the persistence contract suite."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.ports.events import WebhookDelivery
from domain.authorization import CaptureMethod
from domain.card import CardSummary
from domain.merchant import Merchant
from domain.money import Money
from domain.payment import Payment
from domain.risk import RiskDecision

T0 = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)
_numbers = itertools.count(1)


def merchant(merchant_id: str = "mer_1", **overrides: Any) -> Merchant:
    fields: dict[str, Any] = {
        "merchant_id": merchant_id,
        "name": f"Shop {merchant_id}",
        "api_key": f"key_{merchant_id}",
        "api_secret_sealed": "sealed-secret",
        "webhook_secret_sealed": "sealed-hook",
        "created_at": T0,
    }
    return Merchant(**(fields | overrides))


def payment(merchant_id: str = "mer_1", **overrides: Any) -> Payment:
    n = next(_numbers)
    fields: dict[str, Any] = {
        "payment_no": f"pay_{n:06d}",
        "merchant_id": merchant_id,
        "order_no": f"ORDER-{n}",
        "amount": Money(10_000, "USD"),
        "channel": "sandbox",
        "created_at": T0,
        "updated_at": T0,
    }
    return Payment(**(fields | overrides))


def captured(p: Payment, at: datetime = T0) -> Payment:
    """`p` charged successfully at `at`: refundable."""
    p.apply_risk(RiskDecision.approve(12), at)
    p.card = CardSummary("visa", "4242")
    p.start_processing(at)
    p.succeed(at, reference="ch_1")
    return p


def delivery(n: int, due_in: float = 0, **overrides: Any) -> WebhookDelivery:
    """Delivery `n` of event `evt_{n}` (unless told), to the merchant's notify_url."""
    fields: dict[str, Any] = {
        "delivery_id": f"dlv_{n:04d}",
        "event_id": f"evt_{n:04d}",
        "merchant_id": "mer_1",
        "type": "payment.succeeded",
        "endpoint_id": None,
        "url": "https://shop.example/hooks",
        "created_at": later(n),
        "next_attempt_at": later(due_in),
        "traceparent": f"00-{n:032x}-{n:016x}-01",
    }
    return WebhookDelivery(**(fields | overrides))


def authorized(p: Payment, at: datetime = T0, hold: timedelta = timedelta(days=7)) -> Payment:
    """`p`, a manual payment, authorized at `at` and held for `hold`: capturable."""
    p.capture_method = CaptureMethod.MANUAL
    p.apply_risk(RiskDecision.approve(12), at)
    p.start_processing(at)
    p.authorize(at, at + hold, reference="ch_1")
    return p


def failed(p: Payment, at: datetime = T0) -> Payment:
    p.start_processing(at)
    p.fail(at, "card_declined")
    return p


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


only_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""Run a contract test on SQLite alone: for behaviour that exists by design only there."""

only_postgres = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
"""Run a contract test on PostgreSQL alone."""
