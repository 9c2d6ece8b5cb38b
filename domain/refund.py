"""A refund of part or all of a captured payment: pending -> succeeded | failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from domain.errors import InvalidStatus
from domain.money import Money

if TYPE_CHECKING:
    from domain.payment import Payment


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(slots=True, kw_only=True)
class Refund:
    refund_no: str
    payment_no: str
    merchant_id: str
    amount: Money
    created_at: datetime
    updated_at: datetime
    status: RefundStatus = RefundStatus.PENDING
    reason: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    channel_reference: str | None = None
    completed_at: datetime | None = None
    # the client's Idempotency-Key (with its scope): one refund per key and payment, however
    # often, or however late, the request is retried
    request_key: str | None = None

    @classmethod
    def open(
        cls, refund_no: str, payment: Payment, amount: Money, now: datetime, reason: str | None
    ) -> Refund:
        return cls(
            refund_no=refund_no,
            payment_no=payment.payment_no,
            merchant_id=payment.merchant_id,
            amount=amount,
            created_at=now,
            updated_at=now,
            reason=reason,
        )

    @property
    def currency(self) -> str:
        return self.amount.currency

    def succeed(self, now: datetime, reference: str | None = None) -> None:
        self._finish(RefundStatus.SUCCEEDED, now)
        self.channel_reference = reference

    def fail(self, now: datetime, code: str, message: str | None = None) -> None:
        self._finish(RefundStatus.FAILED, now)
        self.failure_code = code
        self.failure_message = message or code.replace("_", " ")

    def _finish(self, status: RefundStatus, now: datetime) -> None:
        if self.status is not RefundStatus.PENDING:
            raise InvalidStatus(f"refund {self.refund_no} is already {self.status}")
        self.status = status
        self.updated_at = now
        self.completed_at = now
