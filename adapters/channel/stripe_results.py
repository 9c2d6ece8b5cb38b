"""Reading Stripe's answers as charge and refund results.

A 402/400 `card_error` or `invalid_request_error` means Stripe refused: nothing was
charged, FAILED with our failure code. A 409 means another request with the same
idempotency key is still running: its outcome is not known yet. 401/403 (paygate's key
refused) never get here: `RemoteService` raises them as `CredentialsRefused`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.channel.stripe_wire import failure_code
from application.ports.channel import NOT_CAPTURED, ChargeResult, Outcome, RefundResult

_INTENT_FAILED = {"requires_payment_method", "canceled", "requires_action"}
_HELD = "requires_capture"  # a manual intent, authorized


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _error(payload: dict[str, Any] | None) -> dict[str, Any]:
    error = (payload or {}).get("error")
    return error if isinstance(error, dict) else {}


def _undecided(status: int) -> bool:
    """An answer that is not a refusal and that we could not read: it may have worked."""
    return status < 400 or status == 409 or status >= 500


def _capture_before(intent: dict[str, Any]) -> datetime | None:
    """`latest_charge.payment_method_details.card.capture_before`, when it was expanded."""
    charge = intent.get("latest_charge")
    details = charge.get("payment_method_details") if isinstance(charge, dict) else None
    card = details.get("card") if isinstance(details, dict) else None
    stamp = card.get("capture_before") if isinstance(card, dict) else None
    return datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) else None


def intent_result(intent: dict[str, Any]) -> ChargeResult:
    """A PaymentIntent's status as our outcome: `requires_capture` is the authorization
    of a `manual` intent going through (an automatic one never waits there: it stays
    UNKNOWN, like every odd state, for the reconciler)."""
    status, reference = intent.get("status"), intent.get("id")
    if status == "succeeded":
        return ChargeResult(Outcome.SUCCEEDED, reference)
    if status == _HELD and intent.get("capture_method") == "manual":
        return ChargeResult(Outcome.SUCCEEDED, reference, capture_before=_capture_before(intent))
    if status in _INTENT_FAILED:
        error = intent.get("last_payment_error")
        code = "authentication_required" if status == "requires_action" else failure_code(error)
        message = (error or {}).get("message") if isinstance(error, dict) else None
        return ChargeResult(Outcome.FAILED, reference, code, message or status)
    return ChargeResult(Outcome.UNKNOWN, reference, failure_message=f"payment intent {status}")


def charge_result(response: httpx.Response) -> ChargeResult:
    payload = _json(response)
    if response.status_code == 200 and payload is not None:
        return intent_result(payload)
    if _undecided(response.status_code):
        return ChargeResult(Outcome.UNKNOWN, failure_message=f"stripe {response.status_code}")
    error = _error(payload)
    intent = error.get("payment_intent")
    reference = intent.get("id") if isinstance(intent, dict) else None
    return ChargeResult(Outcome.FAILED, reference, failure_code(error), error.get("message"))


def capture_state(intent: dict[str, Any]) -> ChargeResult:
    """What became of a capture, read from its intent: captured, still only authorized (the
    capture never arrived: the hold stands), or over (canceled: nothing can be captured)."""
    status, reference = intent.get("status"), intent.get("id")
    if status == "succeeded":
        return ChargeResult(Outcome.SUCCEEDED, reference)
    if status == _HELD:
        return ChargeResult(Outcome.FAILED, reference, NOT_CAPTURED, "not captured yet")
    if status == "canceled":
        return ChargeResult(Outcome.FAILED, reference, "authorization_canceled", "canceled")
    return ChargeResult(Outcome.UNKNOWN, reference, failure_message=f"payment intent {status}")


def void_state(intent: dict[str, Any]) -> ChargeResult:
    """What became of a void: the intent canceled (by us, or by Stripe once the hold
    lapsed), or not (captured, or still held: the void did not happen)."""
    status, reference = intent.get("status"), intent.get("id")
    if status == "canceled":
        return ChargeResult(Outcome.SUCCEEDED, reference)
    if status in ("succeeded", _HELD):
        return ChargeResult(Outcome.FAILED, reference, f"intent_{status}", f"intent {status}")
    return ChargeResult(Outcome.UNKNOWN, reference, failure_message=f"payment intent {status}")


IntentState = Callable[[dict[str, Any]], ChargeResult]


def move_result(response: httpx.Response, state: IntentState) -> ChargeResult:
    """The answer to a capture or cancel: the intent it returns, or the intent a refusal
    carries (Stripe names its state), or a refusal without one."""
    payload = _json(response)
    if response.status_code == 200 and payload is not None:
        return state(payload)
    if _undecided(response.status_code):
        return ChargeResult(Outcome.UNKNOWN, failure_message=f"stripe {response.status_code}")
    error = _error(payload)
    intent = error.get("payment_intent")
    if isinstance(intent, dict) and state(intent).outcome is Outcome.SUCCEEDED:
        return state(intent)
    return ChargeResult(Outcome.FAILED, None, failure_code(error), error.get("message"))


def refund_object_result(refund: dict[str, Any]) -> RefundResult:
    status, reference = refund.get("status"), refund.get("id")
    if status == "succeeded":
        return RefundResult(Outcome.SUCCEEDED, reference)
    if status in ("failed", "canceled"):
        reason = refund.get("failure_reason") or "refund_failed"
        return RefundResult(Outcome.FAILED, reference, reason, f"refund {status}")
    return RefundResult(Outcome.UNKNOWN, reference, failure_message=f"refund {status}")


def refund_result(response: httpx.Response) -> RefundResult:
    payload = _json(response)
    if response.status_code == 200 and payload is not None:
        return refund_object_result(payload)
    if _undecided(response.status_code):
        return RefundResult(Outcome.UNKNOWN, failure_message=f"stripe {response.status_code}")
    error = _error(payload)
    code = error.get("code") if isinstance(error.get("code"), str) else "refund_failed"
    return RefundResult(Outcome.FAILED, None, code, error.get("message"))
