"""Sampling decided once, at the edge: an unsampled request builds nothing of OpenTelemetry.

With 10 % sampling nine requests in ten are not traced. For them the SDK would still start
a server span (ids, a sampler call, a span object), copy the context to make it current and
end it. Here the HTTP middleware asks the provider's sampler (its public `should_sample`)
once, before any span exists; an unsampled request then only sets one context variable with
its two ids, which is all X-Trace-ID, the log lines and an outgoing `traceparent` need:

- `current_unsampled()` is read by `observability.trace_ids` and by the business spans;
- `UnsampledRequestPropagator` wraps the global propagator, so `opentelemetry.propagate.
  inject` (the remote adapters, the outbox) still writes the request's `traceparent`;
- a sampled root request gets the trace id the decision was made on, through the
  provider's id generator (`EdgeIdGenerator`), so the SDK's own sampler agrees with it.

The fast path needs the SDK's `ParentBased` default (children follow their parent) and an
`EdgeIdGenerator`; with any other provider the middleware starts spans as before.
"""

from __future__ import annotations

import random
import re
from contextvars import ContextVar, Token
from typing import Any, NamedTuple

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Decision, ParentBased, Sampler
from opentelemetry.trace import SpanKind


class RequestIds(NamedTuple):
    """The ids of a request that is not sampled (its trace continues downstream unsampled)."""

    trace_id: int
    span_id: int
    tracestate: str | None = None

    def traceparent(self) -> str:
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-00"


_UNSAMPLED: ContextVar[RequestIds | None] = ContextVar("paygate_unsampled_request", default=None)


def current_unsampled() -> RequestIds | None:
    """The ids of the unsampled request being handled, or None (sampled, or no request)."""
    return _UNSAMPLED.get()


def enter_unsampled(ids: RequestIds | None) -> Token[RequestIds | None]:
    return _UNSAMPLED.set(ids)


def leave_unsampled(token: Token[RequestIds | None]) -> None:
    _UNSAMPLED.reset(token)


# -- which samplers let a decision at the edge stand for the whole request -------------
_NOT_SAMPLED_CHILDREN = ("remoteParentNotSampled:AlwaysOffSampler,localParentSampled:",
                         "localParentNotSampled:AlwaysOffSampler}")
_FOLLOWS_PARENT = ",remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler" \
    ",localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"


def drops_children_of_unsampled(sampler: object) -> bool:
    """True when `sampler` never samples a span whose parent is not sampled: the SDK's
    `ParentBased` with its default ALWAYS_OFF for unsampled parents, or ALWAYS_OFF.
    Read from the sampler's public description."""
    if sampler is ALWAYS_OFF:
        return True
    if not isinstance(sampler, ParentBased):
        return False
    description = sampler.get_description()  # type: ignore[no-untyped-call]
    return all(part in description for part in _NOT_SAMPLED_CHILDREN)


def follows_parent(sampler: object) -> bool:
    """`ParentBased` with every parent delegate at its default: a request with a parent is
    sampled exactly when its `traceparent` says so."""
    return isinstance(sampler, ParentBased) and sampler.get_description().endswith(  # type: ignore[no-untyped-call]
        _FOLLOWS_PARENT)


# -- the ids ------------------------------------------------------------------------------
_DRAWN: ContextVar[int] = ContextVar("paygate_drawn_trace_id", default=0)


class EdgeIdGenerator(RandomIdGenerator):
    """Random ids, except the trace id of a request the edge has just decided to sample:
    the SDK then samples the very id the decision was made on."""

    def generate_trace_id(self) -> int:
        return _DRAWN.get() or super().generate_trace_id()


def draw_trace_id() -> int:
    return random.getrandbits(128) or 1


def draw_span_id() -> int:
    return random.getrandbits(64) or 1


_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


class Parent(NamedTuple):
    trace_id: int
    span_id: int
    sampled: bool


def parse_traceparent(traceparent: str) -> Parent | None:
    """A W3C `traceparent` of version 00; None for anything else (the SDK's propagator
    then reads it, as it always did)."""
    match = _TRACEPARENT.fullmatch(traceparent.strip())
    if match is None:
        return None
    trace_id, span_id = int(match.group(1), 16), int(match.group(2), 16)
    if not trace_id or not span_id:
        return None
    return Parent(trace_id, span_id, bool(int(match.group(3), 16) & 1))


class EdgeSampler:
    """The decision for one request, from the provider's own sampler and id generator."""

    __slots__ = ("_sampler",)

    def __init__(self, sampler: Sampler) -> None:
        self._sampler = sampler

    @classmethod
    def of(cls, provider: object) -> EdgeSampler | None:
        """For an SDK provider with an `EdgeIdGenerator` and a sampler whose children
        follow their parent; None otherwise (spans are then started as before)."""
        sampler = getattr(provider, "sampler", None)
        ids = getattr(provider, "id_generator", None)
        if isinstance(ids, EdgeIdGenerator) and follows_parent(sampler):
            return cls(sampler)  # type: ignore[arg-type]
        return None

    def decide_root(self, name: str) -> RequestIds | int:
        """A request without a parent: its ids when it is not sampled, else the trace id
        to start its span with (`start_sampled_root`)."""
        trace_id = draw_trace_id()
        result = self._sampler.should_sample(None, trace_id, name, SpanKind.SERVER)
        if result.decision is Decision.RECORD_AND_SAMPLE:
            return trace_id
        return RequestIds(trace_id, draw_span_id())

    @staticmethod
    def start_sampled_root(tracer: trace.Tracer, name: str, trace_id: int) -> trace.Span:
        token = _DRAWN.set(trace_id)
        try:
            return tracer.start_span(name, kind=SpanKind.SERVER)
        finally:
            _DRAWN.reset(token)


class UnsampledRequestPropagator(TextMapPropagator):
    """The global propagator, plus the `traceparent` (and `tracestate`) of an unsampled
    request, which has no span in OpenTelemetry's context to take them from."""

    def __init__(self, inner: TextMapPropagator) -> None:
        self.inner = inner

    def extract(self, carrier: CarrierT, context: Context | None = None,
                getter: Getter[CarrierT] = default_getter) -> Context:
        return self.inner.extract(carrier, context, getter)

    def inject(self, carrier: CarrierT, context: Context | None = None,
               setter: Setter[CarrierT] = default_setter) -> None:
        self.inner.inject(carrier, context, setter)
        ids = _UNSAMPLED.get()
        if ids is None or context is not None:
            return
        if trace.get_current_span().get_span_context().is_valid:
            return  # a span is current after all (one started under the request): its ids
        setter.set(carrier, "traceparent", ids.traceparent())
        if ids.tracestate:
            setter.set(carrier, "tracestate", ids.tracestate)

    @property
    def fields(self) -> set[str]:
        return {"traceparent", "tracestate", *self.inner.fields}


def install_propagator() -> None:
    """Wrap the global propagator once (idempotent)."""
    current: Any = propagate.get_global_textmap()
    if not isinstance(current, UnsampledRequestPropagator):
        propagate.set_global_textmap(UnsampledRequestPropagator(current))
