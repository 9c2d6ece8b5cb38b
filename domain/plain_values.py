"""The values of the enums a payment's views and rows show, as plain strs, in tables made
once. An enum's `value` is a descriptor run in Python; a payment's views and the rows it
writes read about twenty of them, and a lookup is several times cheaper."""

from __future__ import annotations

from domain.authorization import CaptureMethod
from domain.payment import PaymentStatus
from domain.risk import Verdict

STATUS: dict[PaymentStatus, str] = {status: status.value for status in PaymentStatus}
VERDICT: dict[Verdict, str] = {verdict: verdict.value for verdict in Verdict}
CAPTURE_METHOD: dict[CaptureMethod, str] = {method: method.value for method in CaptureMethod}
