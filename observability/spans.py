"""Running a call inside a business span: attributes only when recorded, errors on the span."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from opentelemetry.trace import Span, Status, StatusCode, Tracer

from observability.attributes import Extractor

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


async def run_in_span(
    tracer: Tracer, name: str, call: AsyncCallable[R], args: tuple[Any, ...],
    kwargs: dict[str, Any], before: Extractor, after: Extractor,
) -> R:
    """`call` inside a child span named `name`; attributes are only built when recorded."""
    with tracer.start_as_current_span(
        name, record_exception=False, set_status_on_exception=False
    ) as span:
        recording = span.is_recording()
        if recording:
            span.set_attributes(before(first_argument(args, kwargs)))
        try:
            result = await call(*args, **kwargs)
        except Exception as exc:
            if recording:
                record_error(span, exc)
            raise
        if recording:
            span.set_attributes(after(result))
        return result
