"""Running a call inside a business span, at the least cost when the trace is not sampled.

Every payment runs four business spans, and with 10 % sampling nine payments in ten are not
sampled: what an unsampled call costs is most of what tracing costs. So

- under an unsampled parent, when the sampler never samples such a child (ParentBased, the
  default), no span is started at all: the call runs in its parent's span, whose trace id
  the log lines still carry. The traced callable then hands back the call's own
  coroutine, so no frame of the tracing code sits above it: such a frame would be resumed
  at every await below it (a payment's use case awaits the database about ten times);
- under a request the edge sampled, no call looks its parent up either: a sampled trace's
  children are sampled (one context-variable read says so);
- attributes are only built for a recorded span, and set once, when the call returns;
- a span inside another business span leaves out the attributes that span was called
  with, equal (docs/adr/0037);
- the span is made current by hand rather than by `start_as_current_span`, whose
  generator-based context managers cost more than the span itself when it is not recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, Final, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from observability.attributes import Attributes, Extractor
from observability.edge_sampling import current_unsampled, enter_unsampled, leave_unsampled
from observability.edge_sampling import drops_children_of_unsampled as sampler_drops_children
from observability.trace_ids import sampled_trace_id

R = TypeVar("R")
AsyncCallable = Callable[..., Awaitable[R]]


def first_argument(args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
    if args:
        return args[0]
    return next(iter(kwargs.values()), None)


def record_error(span: Span, error: BaseException) -> None:
    """The exception as a span event, the span status ERROR, and the domain code if any."""
    span.record_exception(error)
    code = getattr(error, "code", None)
    span.set_attribute("error.type", code if isinstance(code, str) else type(error).__qualname__)
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))


# Results that are a fault of the platform rather than an answer: a channel that could
# not be reached (`channel_unavailable`) or sent no answer (`unknown`). A declined card is
# an answer and leaves the span unset.
_FAULT_CODES: Final = frozenset({"channel_unavailable"})


def fault_of(attributes: Mapping[str, object]) -> str | None:
    """The `error.type` a result's attributes call for, or None for an answer."""
    if attributes.get("failure_code") in _FAULT_CODES:
        return str(attributes["failure_code"])
    if attributes.get("outcome") == "unknown":
        return "unknown"
    return None


def record_fault(span: Span, fault: str) -> None:
    span.set_attribute("error.type", fault)
    span.set_status(Status(StatusCode.ERROR, fault))


def drops_children_of_unsampled(tracer: Tracer) -> bool:
    """True when `tracer`'s sampler never samples a span whose parent is not sampled (the
    SDK's `ParentBased` with its defaults, or ALWAYS_OFF), read from the SDK tracer's
    public `sampler` and its description. A proxy tracer (no SDK provider known yet)
    answers False: spans are then started as before, only slower."""
    return sampler_drops_children(getattr(tracer, "sampler", None))


def under_unsampled_parent() -> bool:
    """The current span belongs to a trace that is not sampled (and there is one)."""
    parent = trace.get_current_span().get_span_context()
    return parent.is_valid and not parent.trace_flags.sampled


# What the business spans enclosing the current call were called with: a child span leaves
# out an attribute its business parent carries with the same value (docs/adr/0037).
_NOTHING: Final[Mapping[str, object]] = MappingProxyType({})
_ENCLOSING: ContextVar[Mapping[str, object]] = ContextVar(
    "paygate_enclosing_span_attributes", default=_NOTHING)


def not_said_by(attributes: Attributes, enclosing: Mapping[str, object]) -> Attributes:
    """`attributes` less those an enclosing business span already carries, equal."""
    if not enclosing:
        return attributes
    return {key: value for key, value in attributes.items()
            if key not in enclosing or enclosing[key] != value}


def merged(first: Attributes, then: Attributes) -> Attributes:
    """`first` updated by `then`, keys in the order two `set_attributes` calls leave them
    (a key set again moves to the end)."""
    if not then:
        return first
    combined = {key: value for key, value in first.items() if key not in then}
    combined.update(then)
    return combined


class BusinessSpan:
    """How one business call is traced: `BusinessSpan(tracer, "RiskCheck", before, after)`.

    `before` reads attributes from the call's first argument, `after` from its result;
    neither runs unless the span is recorded.
    """

    __slots__ = ("_after", "_before", "_name", "_skip_under_unsampled", "_tracer")

    def __init__(self, tracer: Tracer, name: str, before: Extractor, after: Extractor) -> None:
        self._tracer, self._name = tracer, name
        self._before, self._after = before, after
        self._skip_under_unsampled = drops_children_of_unsampled(tracer)

    def call(
        self, call: AsyncCallable[R], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Awaitable[R]:
        """`call(*args, **kwargs)` inside this span, to be awaited at once; under an
        unsampled parent whose children are never sampled, `call`'s own awaitable."""
        if self._skip_under_unsampled and (
                current_unsampled() is not None  # the edge said: not sampled
                or (sampled_trace_id() is None  # nor sampled (outside a request)
                    and under_unsampled_parent())):
            return call(*args, **kwargs)
        return self._run(call, args, kwargs)

    async def _run(
        self, call: AsyncCallable[R], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> R:
        """One coroutine frame above the call, not two: this frame is resumed at every
        await below it (a payment's use case awaits the database about ten times)."""
        span = self._tracer.start_span(self._name)
        token = otel_context.attach(trace.set_span_in_context(span))
        if not span.is_recording():
            try:
                return await call(*args, **kwargs)
            finally:
                otel_context.detach(token)
                span.end()
        # a sampler that samples under an unsampled parent: this span's children may be too.
        # (Under a sampler that drops such children, `call` found no unsampled request.)
        sampled = None if self._skip_under_unsampled else enter_unsampled(None)
        enclosing = _ENCLOSING.get()
        before: Attributes = {}
        inherited = None
        try:
            before = self._before(first_argument(args, kwargs))
            inherited = _ENCLOSING.set({**enclosing, **before} if enclosing else before)
            result = await call(*args, **kwargs)
        except BaseException as exc:  # cancelled too: the span still says what was asked
            span.set_attributes(not_said_by(before, enclosing))
            if isinstance(exc, Exception):
                record_error(span, exc)
            raise
        else:
            attributes = merged(before, self._after(result))
            span.set_attributes(not_said_by(attributes, enclosing))
            fault = fault_of(attributes)
            if fault is not None:
                record_fault(span, fault)
            return result
        finally:
            if inherited is not None:
                _ENCLOSING.reset(inherited)
            if sampled is not None:
                leave_unsampled(sampled)
            otel_context.detach(token)
            span.end()
