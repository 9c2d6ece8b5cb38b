"""Metrics and tracing wrapped around use cases and ports, from outside the hexagon.

Wrapping, not subclassing: the container builds `metered_create_payment(
traced_create_payment(CreatePayment(...)), metrics)` and the use case never knows. Any
async callable can be wrapped, so a use case changing shape only changes its classifier.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Collection, Mapping
from time import perf_counter
from typing import Any, Generic, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Tracer

from observability.attributes import (
    Extractor,
    business_attributes,
    refund_outcome_attributes,
    settlement_attributes,
)
from observability.metrics import Metrics
from observability.outcomes import DEFAULT_CHANNELS, hold_status
from observability.payment_faults import payment_faults
from observability.recorders import (
    OperationRecorder,
    PaymentRecorder,
    Recorder,
    RefundRecorder,
    success_or_failed,
)
from observability.spans import AsyncCallable, BusinessSpan, first_argument

R = TypeVar("R")
TRACER_NAME = "paygate"
_log = logging.getLogger(__name__)


def _delegate(wrapper: object, name: str) -> Any:
    """A wrapper answers for its inner object; `_inner` itself not being set yet (a copy,
    unpickling) must not recurse."""
    if name == "_inner":
        raise AttributeError(name)
    return getattr(object.__getattribute__(wrapper, "_inner"), name)


class MeteredUseCase(Generic[R]):
    """Calls `inner` and hands the outcome to `record` in a `finally`: errors are counted too."""

    __slots__ = ("_inner", "_record")

    def __init__(self, inner: AsyncCallable[R], record: Recorder) -> None:
        self._inner = inner
        self._record = record

    async def __call__(self, *args: Any, **kwargs: Any) -> R:
        started, result, error = perf_counter(), None, None
        try:
            result = await self._inner(*args, **kwargs)
            return result
        except BaseException as exc:
            error = exc
            raise
        finally:
            try:
                self._record(first_argument(args, kwargs), result, error, perf_counter() - started)
            except Exception:  # a broken metric must never turn a payment into an error
                _log.exception("recording metrics failed")

    def refused(self, request: object, error: BaseException) -> None:
        """Count a call its caller refused before making it (its command could not be
        built: a card that fails Luhn), labelled from the request as the call would be."""
        try:
            self._record(request, None, error, 0.0)
        except Exception:
            _log.exception("recording metrics failed")

    def __getattr__(self, name: str) -> Any:
        return _delegate(self, name)


class TracedUseCase(Generic[R]):
    """A business span (`CreatePayment`...) around a use case."""

    __slots__ = ("_inner", "_span")

    def __init__(
        self, inner: AsyncCallable[R], name: str, tracer: Tracer | None = None,
        before: Extractor = business_attributes, after: Extractor = business_attributes,
    ) -> None:
        self._inner = inner
        self._span = BusinessSpan(tracer or trace.get_tracer(TRACER_NAME), name, before, after)

    def __call__(self, *args: Any, **kwargs: Any) -> Awaitable[R]:
        return self._span.call(self._inner, args, kwargs)  # awaited by the caller

    def __getattr__(self, name: str) -> Any:
        return _delegate(self, name)


class TracedPort:
    """Proxies every attribute of a port; the async methods in `span_names` get a span.

    `TracedPort(risk, {"assess": "RiskCheck"})` behaves exactly like `risk`, including its
    synchronous methods and plain attributes such as a channel's `name`.
    """

    def __init__(
        self, inner: object, span_names: Mapping[str, str], tracer: Tracer | None = None,
        after: Mapping[str, Extractor] | None = None, fixed: Collection[str] = (),
        before: Extractor = business_attributes,
    ) -> None:
        """`fixed` names attributes the port declares once and for all (an order book's
        `shares_database`, a method it is not traced around): copied here, they are read
        without `__getattr__`, which only runs after a failed lookup."""
        self._inner = inner
        for name in fixed:
            if hasattr(inner, name):  # one the port does not have stays missing here too
                setattr(self, name, getattr(inner, name))
        tracer = tracer or trace.get_tracer(TRACER_NAME)
        for method, span_name in span_names.items():
            extract = (after or {}).get(method, business_attributes)
            setattr(self, method, _traced_method(
                getattr(inner, method), tracer, span_name, extract, before))

    def __getattr__(self, name: str) -> Any:
        return _delegate(self, name)

    def __repr__(self) -> str:
        return f"TracedPort({self._inner!r})"


def _traced_method(
    method: AsyncCallable[Any], tracer: Tracer, span_name: str, after: Extractor,
    before: Extractor = business_attributes,
) -> AsyncCallable[Any]:
    span = BusinessSpan(tracer, span_name, before, after)

    def traced(*args: Any, **kwargs: Any) -> Awaitable[Any]:
        return span.call(method, args, kwargs)  # awaited by the caller

    traced.__name__ = getattr(method, "__name__", span_name)
    return traced


# -- the paygate wiring -----------------------------------------------------------------
def metered_create_payment(
    inner: AsyncCallable[R], metrics: Metrics, channels: Collection[str] = DEFAULT_CHANNELS
) -> MeteredUseCase[R]:
    """payment_total and its series, and payment_faults_total for the success SLO."""
    return MeteredUseCase(inner, PaymentRecorder(metrics, frozenset(channels),
                                                 payment_faults(metrics)))


def metered_create_refund(inner: AsyncCallable[R], metrics: Metrics) -> MeteredUseCase[R]:
    return MeteredUseCase(inner, RefundRecorder(metrics))


def metered_operation(
    inner: AsyncCallable[R], metrics: Metrics, operation: str
) -> MeteredUseCase[R]:
    """payment_duration_seconds{operation=...} with status success or failed."""
    return MeteredUseCase(inner, OperationRecorder(metrics, operation, success_or_failed))


def metered_process_settlement(inner: AsyncCallable[R], metrics: Metrics) -> MeteredUseCase[R]:
    return metered_operation(inner, metrics, "process_settlement")


def metered_capture_payment(inner: AsyncCallable[R], metrics: Metrics) -> MeteredUseCase[R]:
    """payment_duration_seconds{operation="capture_payment"}, status by `hold_status`."""
    return MeteredUseCase(inner, OperationRecorder(metrics, "capture_payment", hold_status))


def metered_cancel_payment(inner: AsyncCallable[R], metrics: Metrics) -> MeteredUseCase[R]:
    """Merchants' and operators' cancels, and the worker's expiries (status `expired`)."""
    return MeteredUseCase(inner, OperationRecorder(metrics, "cancel_payment", hold_status))


def traced_create_payment(
    inner: AsyncCallable[R], tracer: Tracer | None = None
) -> TracedUseCase[R]:
    return TracedUseCase(inner, "CreatePayment", tracer)


def traced_create_refund(
    inner: AsyncCallable[R], tracer: Tracer | None = None
) -> TracedUseCase[R]:
    return TracedUseCase(inner, "CreateRefund", tracer, after=refund_outcome_attributes)


def traced_capture_payment(
    inner: AsyncCallable[R], tracer: Tracer | None = None
) -> TracedUseCase[R]:
    return TracedUseCase(inner, "CapturePayment", tracer)


def traced_cancel_payment(
    inner: AsyncCallable[R], tracer: Tracer | None = None
) -> TracedUseCase[R]:
    return TracedUseCase(inner, "CancelPayment", tracer)


def traced_process_settlement(
    inner: AsyncCallable[R], tracer: Tracer | None = None
) -> TracedUseCase[R]:
    return TracedUseCase(inner, "ProcessSettlement", tracer, after=settlement_attributes)


def traced_review_payment(inner: AsyncCallable[R], tracer: Tracer | None) -> TracedUseCase[R]:
    return TracedUseCase(inner, "ReviewPayment", tracer)


class MeteredAuditTrail:
    """An audit trail that counts each action it records,
    `payment_gateway_operator_actions_total{role, action}`. The count is taken when the
    row is written into the unit of work; an action whose commit then fails (rare: the
    database failing at COMMIT) is counted all the same."""

    __slots__ = ("_inner", "_metrics")

    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics

    def check(self, actor: Any, action: Any) -> None:
        self._inner.check(actor, action)

    async def record(self, uow: Any, actor: Any, action: Any, *args: Any, **kwargs: Any) -> Any:
        entry = await self._inner.record(uow, actor, action, *args, **kwargs)
        if entry is not None:
            self._metrics.record_operator_action(str(entry.role), str(entry.action))
        return entry
