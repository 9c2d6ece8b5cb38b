"""The sandbox's authorizations: held until a configurable lifetime ends, then captured
once or voided.

An authorization's reference is `auth_sandbox_<scenario>_<hash of the payment_no>`, so a
capture sent to any sandbox process (a restarted remote channel service included) knows
the card's scenario without shared memory: 4000000000000341 authorizes and its capture is
declined (`card_declined`); 4000000000001000 authorizes and its capture's answer is lost
(UNKNOWN), although the capture itself went through, as a later query reports. Every
other card's capture succeeds, and every void does.

Like charges, captures and voids are remembered per idempotency key in this process only,
and one this process never saw is reported as having gone through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from adapters.channel.sandbox_cards import Scenario
from application.ports.channel import (
    CaptureRequest,
    ChargeResult,
    Outcome,
    RefundResult,
    VoidRequest,
)

R = TypeVar("R", ChargeResult, RefundResult)
HOLD_PREFIX = "auth_sandbox_"
DECLINED_CAPTURE = ChargeResult(
    Outcome.FAILED, None, "card_declined", "the issuer declined the capture")


def reference(prefix: str, key: str) -> str:
    """Derived from the key, so every process names the same charge the same way."""
    return f"{prefix}_sandbox_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def hold_reference(scenario: Scenario, payment_no: str) -> str:
    digest = hashlib.sha256(payment_no.encode()).hexdigest()[:24]
    return f"{HOLD_PREFIX}{scenario.value}_{digest}"


def scenario_of_hold(hold: str | None) -> Scenario | None:
    """None for anything that is not a sandbox authorization's reference."""
    if not hold or not hold.startswith(HOLD_PREFIX):
        return None
    try:
        return Scenario(hold[len(HOLD_PREFIX):].partition("_")[0])
    except ValueError:
        return None


class Memory(Generic[R]):
    """Results and execution counts per idempotency key, oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._results: dict[str, R] = {}
        self._executions: dict[str, int] = {}
        self._capacity = capacity

    def get(self, key: str) -> R | None:
        return self._results.get(key)

    def put(self, key: str, result: R) -> None:
        self._results[key] = result
        self._executions[key] = self._executions.get(key, 0) + 1
        if len(self._results) > self._capacity:
            oldest = next(iter(self._results))
            del self._results[oldest], self._executions[oldest]

    def executions(self, key: str) -> int:
        return self._executions.get(key, 0)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Holds:
    """Captures and voids of the sandbox's authorizations."""

    def __init__(
        self, lifetime: timedelta, capacity: int, now: Callable[[], datetime] = utc_now
    ) -> None:
        self.lifetime = lifetime
        self._now = now
        self.moves: Memory[ChargeResult] = Memory(capacity)

    def authorized(
        self, settled: ChargeResult, scenario: Scenario, payment_no: str
    ) -> ChargeResult:
        """What an authorization that went through answers: its reference and hold."""
        if settled.outcome is not Outcome.SUCCEEDED:
            return settled
        return ChargeResult(Outcome.SUCCEEDED, hold_reference(scenario, payment_no),
                            capture_before=self._now() + self.lifetime)

    def capture(self, request: CaptureRequest) -> ChargeResult:
        key = request.idempotency_key
        known = self.moves.get(key)
        if known is not None:
            return known
        scenario = scenario_of_hold(request.reference)
        if scenario is Scenario.CAPTURE_DECLINED:
            self.moves.put(key, DECLINED_CAPTURE)
            return DECLINED_CAPTURE
        result = ChargeResult(Outcome.SUCCEEDED, reference("cap", request.payment_no))
        self.moves.put(key, result)
        return ChargeResult(Outcome.UNKNOWN) if scenario is Scenario.CAPTURE_UNKNOWN else result

    def void(self, request: VoidRequest) -> ChargeResult:
        key = request.idempotency_key
        known = self.moves.get(key)
        if known is None:
            known = ChargeResult(Outcome.SUCCEEDED, reference("void", request.payment_no))
            self.moves.put(key, known)
        return known

    def query(self, key: str, prefix: str, payment_no: str) -> ChargeResult:
        known = self.moves.get(key)
        return known or ChargeResult(Outcome.SUCCEEDED, reference(prefix, payment_no))
