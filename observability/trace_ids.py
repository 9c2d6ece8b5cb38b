"""The trace id of the current request, for `X-Trace-ID`, error bodies and log lines.

Every request has one, sampled or not: an unsampled request keeps its ids in one context
variable (`observability.edge_sampling`, no span at all), a sampled one in its span, and
when no SDK provider is installed at all `random_span` makes a non-recording span with
fresh ids.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Final

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from observability.edge_sampling import current_unsampled

_UNSAMPLED = TraceFlags(TraceFlags.DEFAULT)


def current_trace_id() -> str | None:
    """32 lowercase hex digits of the current trace, or None outside any request."""
    unsampled = current_unsampled()
    if unsampled is not None:
        return format(unsampled.trace_id, "032x")
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def current_span_id() -> str | None:
    """16 lowercase hex digits of the current span, or None outside any span."""
    unsampled = current_unsampled()
    if unsampled is not None:
        return format(unsampled.span_id, "016x")
    context = trace.get_current_span().get_span_context()
    return format(context.span_id, "016x") if context.is_valid else None


def current_ids() -> tuple[str | None, str | None]:
    """The current trace and span ids at once (one context lookup for a log line)."""
    unsampled = current_unsampled()
    if unsampled is not None:
        return format(unsampled.trace_id, "032x"), format(unsampled.span_id, "016x")
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def random_span(trace_id: int = 0) -> NonRecordingSpan:
    """A span that records nothing but has valid ids (continuing `trace_id` if given)."""
    return NonRecordingSpan(SpanContext(
        trace_id=trace_id or random.getrandbits(128) or 1,
        span_id=random.getrandbits(64) or 1,
        is_remote=False,
        trace_flags=_UNSAMPLED,
    ))



# The trace id of the request being answered, set by the HTTP middleware only when its
# trace is sampled: what an exemplar carries. One context-variable read for a recorder, so
# an unsampled request pays next to nothing for exemplars.
_SAMPLED_TRACE_ID: ContextVar[str | None] = ContextVar("paygate_sampled_trace_id", default=None)


# `sampled_trace_id()`: 32 lowercase hex digits of the current request's trace if it is
# sampled (its spans are exported, so an exemplar carrying it leads somewhere), else None.
# The variable's own `get`, not a function around it: a payment calls it, sampled or not.
sampled_trace_id: Final[Callable[[], str | None]] = _SAMPLED_TRACE_ID.get


def enter_sampled_request(trace_id: str) -> Token[str | None]:
    return _SAMPLED_TRACE_ID.set(trace_id)


def leave_sampled_request(token: Token[str | None]) -> None:
    _SAMPLED_TRACE_ID.reset(token)
