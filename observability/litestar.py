"""Litestar glue: the /metrics route handler and the wrapped application.

Everything else in this package is framework-agnostic; this is the only module that knows
Litestar, so the HTTP entrypoint wires observability in two lines.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.handlers import HTTPRouteHandler
from opentelemetry.trace import TracerProvider

from observability.asgi import UNTRACED_PATHS, ObservabilityMiddleware, route_template
from observability.asgi_types import ASGIApp, Scope
from observability.metrics import Metrics

# Litestar appends "; charset=utf-8" to text/* types itself; give it the bare type.
_MEDIA_TYPE = "text/plain; version=0.0.4"
PROBE_TIMEOUT = 2.0  # seconds; Prometheus's own scrape timeout is 10 s by default
Probe = Callable[[], Awaitable[float]]
log = logging.getLogger(__name__)


def metrics_handler(
    metrics: Metrics, path: str = "/metrics", *, outbox_lag: Probe | None = None
) -> HTTPRouteHandler:
    """GET /metrics: OpenMetrics, exemplars included, when the scraper's `Accept` asks for
    `application/openmetrics-text` (Prometheus does), the classic text format otherwise.
    Adding up the worker files in multiprocess mode reads from disk, so it runs on a
    thread, off the event loop.

    `outbox_lag` is read first, each scrape, so the gauge is as fresh as the scrape even
    where no publisher runs; when it cannot be read, the scrape is served without it."""
    if outbox_lag is None:

        @get(path, sync_to_thread=True, include_in_schema=True, tags=["operations"])
        def render_metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
            return _exposition(metrics, request)

        return render_metrics

    @get(path, include_in_schema=True, tags=["operations"])
    async def render_metrics_with_lag(
        request: Request[Any, Any, Any],
    ) -> Response[bytes]:
        try:
            metrics.set_outbox_lag(await asyncio.wait_for(outbox_lag(), PROBE_TIMEOUT))
        except Exception as error:  # a scrape must not fail for one gauge
            log.warning("the outbox lag could not be read: %s", error)
        return await asyncio.to_thread(_exposition, metrics, request)

    return render_metrics_with_lag


def _exposition(metrics: Metrics, request: Request[Any, Any, Any]) -> Response[bytes]:
    body, content_type = metrics.render_for(request.headers.get("accept"))
    if content_type == metrics.content_type:  # classic: exactly as before
        return Response(body, media_type=_MEDIA_TYPE)
    return Response(body, media_type=content_type)


def route_resolver(app: Litestar) -> Callable[[Scope], str | None]:
    """The template of the route a request matched, as Litestar records it; for a path
    that is a route but not for the method asked (405), which Litestar leaves unrecorded,
    the template the path fits. Only requests without a recorded template are matched
    against the templates, so a payment pays nothing for it."""
    templates = [
        (re.compile(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(route.path_format)) + r"\Z"),
         route.path_format)
        for route in app.routes
    ]

    def resolve(scope: Scope) -> str | None:
        found = route_template(scope)
        if found is not None:
            return found
        path = scope.get("path", "")
        return next((template for pattern, template in templates if pattern.match(path)), None)

    return resolve


def instrument(
    app: Litestar, metrics: Metrics | None, tracer_provider: TracerProvider | None = None,
    untraced_paths: frozenset[str] = UNTRACED_PATHS, *, serving: ASGIApp | None = None,
) -> ObservabilityMiddleware:
    """The ASGI application to serve: `app` inside the observability middleware.

    `serving`: what the middleware calls instead, when `app` is wrapped in middleware of
    the entrypoint's own (it runs inside the server span); `app` still names the routes.
    """
    return ObservabilityMiddleware(
        serving or app, metrics=metrics, tracer_provider=tracer_provider,
        untraced_paths=untraced_paths, resolve_route=route_resolver(app))
