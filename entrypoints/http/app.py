"""Builds the Litestar application from resolved services."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.http.admin_api import admin_router
from entrypoints.http.auth import BearerGuard
from entrypoints.http.body import StrictRequest
from entrypoints.http.errors import make_exception_handlers
from entrypoints.http.merchant_api import merchant_router
from entrypoints.http.operations import health_handlers, notification_handler
from entrypoints.http.services import ApiServices
from entrypoints.http.strict import check_input

_SECURITY = Components(
    security_schemes={
        "merchantSignature": SecurityScheme(
            type="apiKey",
            name="X-Signature",
            security_scheme_in="header",
            description="HMAC-SHA256 of '{timestamp}\\n{METHOD}\\n{path_with_query}\\n{raw_body}' "
            "keyed with the merchant secret, with X-API-Key and X-Timestamp.",
        ),
        "adminToken": SecurityScheme(
            type="http", scheme="bearer",
            description="A named operator's token (paygate operators create), or "
            "PAYGATE_ADMIN_TOKEN, the bootstrap admin. Each route needs a role: see "
            "entrypoints/http/roles.py.",
        ),
    }
)


def metrics_router(route: Any, token: str | None) -> Router:
    """/metrics, behind PAYGATE_METRICS_TOKEN when it is set (docs/adr/0024): open, it
    tells anyone on the merchant-facing port every merchant's volumes and amounts."""
    guards = [BearerGuard(token, "metrics")] if token else []
    return Router("/", route_handlers=[route], guards=guards, include_in_schema=True)


def create_app(services: ApiServices) -> Litestar:
    handlers = [
        merchant_router(services),
        admin_router(services),
        notification_handler(services),
        *health_handlers(services),
    ]
    if services.metrics_route is not None:
        handlers.append(metrics_router(services.metrics_route, services.metrics_token))
    return Litestar(
        route_handlers=handlers,
        exception_handlers=make_exception_handlers(services.trace_id),
        before_request=check_input,
        request_class=StrictRequest,
        request_max_body_size=services.body_limit,
        on_startup=services.on_startup,
        on_shutdown=services.on_shutdown,
        openapi_config=OpenAPIConfig(
            title="paygate",
            version="1.0.0",
            path="/schema",
            components=_SECURITY,
            description="Payments, refunds and settlements. See the API contract.",
        ),
        debug=False,
        logging_config=None,
    )
