"""One pure ASGI middleware for the server span, X-Trace-ID and the HTTP metrics.

It wraps the whole application (outside Litestar's router), so it also sees requests
that match no route. The route template is read from the scope *after* the app ran:
Litestar's router stores it in `scope["path_template"]` (Starlette in `scope["route"]`).
It runs on every request, so it allocates little: one closure for `send`, one header.
Sampling is decided here, once (`observability.edge_sampling`): a request that is not
sampled starts no span and copies no context, it only sets its ids in a context variable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection
from time import perf_counter

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from observability.asgi_types import ASGIApp, Message, Receive, Scope, Send
from observability.edge_sampling import (
    EdgeSampler,
    RequestIds,
    draw_span_id,
    draw_trace_id,
    enter_unsampled,
    install_propagator,
    leave_unsampled,
    parse_traceparent,
)
from observability.metrics import Metrics
from observability.trace_ids import enter_sampled_request, leave_sampled_request, random_span

UNMATCHED = "unmatched"
UNTRACED_PATHS = frozenset({"/metrics", "/health/live", "/health/ready"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_PROPAGATOR = TraceContextTextMapPropagator()
_log = logging.getLogger(__name__)


def route_template(scope: Scope) -> str | None:
    """The matched route's template, or None when no route matched."""
    template = scope.get("path_template")
    if template:
        return str(template)
    route = scope.get("route")
    found = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(found) if found else None


class ObservabilityMiddleware:
    """`app = ObservabilityMiddleware(litestar_app, metrics=metrics)`; serve `app`.

    `untraced_paths` (scrapes, probes) get an X-Trace-ID and metrics but no exported span.
    """

    __slots__ = ("_app", "_edge", "_in_flight", "_metrics", "_resolve", "_tracer", "_untraced")

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics | None = None,
        tracer_provider: TracerProvider | None = None,
        untraced_paths: Collection[str] = UNTRACED_PATHS,
        resolve_route: Callable[[Scope], str | None] = route_template,
    ) -> None:
        self._app, self._metrics, self._resolve = app, metrics, resolve_route
        tracer = trace.get_tracer("paygate.http", tracer_provider=tracer_provider)
        self._tracer = None if isinstance(tracer, trace.NoOpTracer) else tracer  # tracing off
        self._edge = None if self._tracer is None else EdgeSampler.of(
            tracer_provider or trace.get_tracer_provider())
        if self._edge is not None:
            install_propagator()  # an unsampled request's traceparent, from its ids
        self._untraced = frozenset(untraced_paths)
        self._in_flight = 0  # requests of this process not yet answered and recorded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = perf_counter()
        method, path = scope["method"], scope["path"]
        request_size, traceparent, tracestate = -1, None, None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                traceparent = value.decode("latin-1")
            elif name == b"tracestate":
                tracestate = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                request_size = int(value)
        ids, span = self._decide(method, path, traceparent, tracestate)
        token = unsampled = sampled = exemplar = None
        span_sampled = False
        if span is not None:
            token = otel_context.attach(trace.set_span_in_context(span))
            span_context = span.get_span_context()
            trace_id, span_sampled = span_context.trace_id, span_context.trace_flags.sampled
            if self._tracer is not None and not span.is_recording():
                ids = RequestIds(trace_id, span_context.span_id)
        if ids is not None:
            unsampled = enter_unsampled(ids)
            trace_id = ids.trace_id
        header = (b"x-trace-id", b"%032x" % trace_id)
        if ids is None and span_sampled:
            exemplar = header[1].decode()  # a sampled request's trace id, for its buckets
            sampled = enter_sampled_request(exemplar)
        status = response_size = 0

        async def send_with_trace_id(message: Message) -> None:
            nonlocal status, response_size
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            elif message["type"] == "http.response.body":
                response_size += len(message.get("body", b""))
            await send(message)

        app_receive = receive
        if request_size < 0 and method in _BODY_METHODS:  # chunked: count as it streams
            request_size = 0

            async def counting_receive() -> Message:
                nonlocal request_size
                message = await receive()
                request_size += len(message.get("body", b""))
                return message

            app_receive = counting_receive
        error: Exception | None = None
        self._in_flight += 1
        try:
            try:
                await self._app(scope, app_receive, send_with_trace_id)
            except Exception as exc:
                error = exc
                if status:  # too late to answer: the server closes the connection
                    raise
            if not status:
                status = 500
                response_size = await _answer_500(send, header, error, method, path)
        finally:
            self._in_flight -= 1  # no await below: nothing else runs before the flush check
            status = status or 500  # cancelled before answering
            route = self._resolve(scope)
            if span is not None:
                if span.is_recording():
                    _finish(span, scope, method, path, route, status, error)
                span.end()
            if unsampled is not None:
                leave_unsampled(unsampled)
            if sampled is not None:
                leave_sampled_request(sampled)
            if token is not None:
                otel_context.detach(token)
            if self._metrics is not None:
                self._metrics.observe_http(
                    method if method in _METHODS else "other", route or UNMATCHED, status,
                    perf_counter() - started, max(request_size, 0), response_size, exemplar)
                if not self._in_flight:  # quiet: let every worker's scrape see it all now
                    self._metrics.flush()

    def _decide(
        self, method: str, path: str, traceparent: str | None, tracestate: str | None
    ) -> tuple[RequestIds | None, Span | None]:
        """The ids of a request that is not sampled (and no span), or its span."""
        if self._edge is None or self._tracer is None:
            return None, self._start_span(method, path, traceparent, tracestate)
        untraced = path in self._untraced
        if traceparent is not None:
            parent = parse_traceparent(traceparent)
            if parent is None or (parent.sampled and not untraced):  # the SDK reads it
                return None, self._start_span(method, path, traceparent, tracestate)
            return RequestIds(parent.trace_id, draw_span_id(), tracestate), None
        if untraced:
            return RequestIds(draw_trace_id(), draw_span_id()), None
        name = method if method in _METHODS else "HTTP"
        decided = self._edge.decide_root(name)
        if isinstance(decided, RequestIds):
            return decided, None
        return None, self._edge.start_sampled_root(self._tracer, name, decided)

    def _start_span(
        self, method: str, path: str, traceparent: str | None, tracestate: str | None
    ) -> Span:
        parent = parent_ids = None
        if traceparent is not None:
            carrier = {"traceparent": traceparent}
            if tracestate is not None:
                carrier["tracestate"] = tracestate
            parent = _PROPAGATOR.extract(carrier)
            parent_ids = trace.get_current_span(parent).get_span_context() if parent else None
        if self._tracer is None or path in self._untraced:
            return random_span(parent_ids.trace_id if parent_ids else 0)
        span = self._tracer.start_span(
            method if method in _METHODS else "HTTP", parent, kind=SpanKind.SERVER)
        ids = span.get_span_context()
        if not ids.is_valid or (parent_ids is not None and ids.span_id == parent_ids.span_id):
            return random_span(parent_ids.trace_id if parent_ids else 0)  # no SDK installed
        return span


def _finish(
    span: Span, scope: Scope, method: str, path: str, route: str | None, status: int,
    error: Exception | None,
) -> None:
    known = method in _METHODS
    attributes: dict[str, str | int] = {
        "http.request.method": method if known else "_OTHER",
        "http.response.status_code": status,
        "url.scheme": scope.get("scheme", "http"),
        "url.path": path,
    }
    if route:
        span.update_name(f"{method if known else 'HTTP'} {route}")
        attributes["http.route"] = route
    span.set_attributes(attributes)  # one call: each one takes the span's lock and cleans
    if error is not None:
        span.record_exception(error)
    if status >= 500:
        span.set_attribute("error.type", type(error).__qualname__ if error else str(status))
        span.set_status(Status(StatusCode.ERROR))


async def _answer_500(
    send: Send, header: tuple[bytes, bytes], error: Exception | None, method: str, path: str
) -> int:
    """The app raised (or returned) without answering: a contract error body, still with
    X-Trace-ID, and the error logged with the request's trace id."""
    _log.error("no response from the application for %s %s", method, path, exc_info=error)
    body = json.dumps({"error": {
        "code": "internal_error", "message": "internal server error",
        "trace_id": header[1].decode(), "details": [],
    }}).encode()
    await send({"type": "http.response.start", "status": 500, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        header]})
    await send({"type": "http.response.body", "body": body})
    return len(body)
