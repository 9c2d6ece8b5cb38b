"""Who may call which admin route: one table, and the guard that reads it.

Every admin route is a line of `ADMIN_ROUTES`, `"METHOD /admin/v1/path/{param}"` to the
least role that may call it (roles are ordered viewer < operator < admin, domain/operator.py).
A route missing from the table is refused to everybody (and a test fails), so adding a
route is adding its line. The use case behind a route checks the operator's role again
(`Actor.require`), so the CLI is held to the same rights.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from domain.operator import BOOTSTRAP_ACTOR, Actor, Role
from entrypoints.http.errors import ApiError

ADMIN_ROUTES: dict[str, Role] = {
    "GET /admin/v1/settlements": Role.VIEWER,
    "GET /admin/v1/audit": Role.VIEWER,
    "GET /admin/v1/merchants/{merchant_id}/routing": Role.VIEWER,
    "POST /admin/v1/payments/{payment_no}/review": Role.OPERATOR,
    "POST /admin/v1/payments/{payment_no}/refunds": Role.OPERATOR,
    "POST /admin/v1/payments/{payment_no}/capture": Role.OPERATOR,
    "POST /admin/v1/payments/{payment_no}/cancel": Role.OPERATOR,
    "POST /admin/v1/merchants": Role.ADMIN,
    "POST /admin/v1/settlements": Role.ADMIN,
    "PUT /admin/v1/merchants/{merchant_id}/routing": Role.ADMIN,
}

TokenLookup = Callable[[str], Awaitable[Actor | None]]


def operator_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The operator the guard let through."""
    actor: Actor = connection.state.actor
    return actor


class OperatorGuard:
    """A guard on every admin route: the bearer token names an operator (or is
    PAYGATE_ADMIN_TOKEN, the bootstrap admin), whose role the route's line allows."""

    def __init__(self, bootstrap_token: str | None, lookup: TokenLookup) -> None:
        self._bootstrap = bootstrap_token.encode() if bootstrap_token else None
        self._lookup = lookup

    def __deepcopy__(self, memo: dict[int, Any]) -> OperatorGuard:
        """Litestar copies its handlers' guards; this one holds the gateway's services."""
        return self

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        actor = await self._actor(connection)
        connection.state.operator = actor.name
        connection.state.operator_role = str(actor.role)
        connection.state.actor = actor
        scope: Any = connection.scope  # an HTTP scope: the guard is on HTTP routes only
        route = f"{scope['method']} {scope.get('path_template')}"
        needed = ADMIN_ROUTES.get(route)
        if needed is None:
            raise ApiError("forbidden", f"{route} has no line in the admin role table")
        if not actor.role.covers(needed):
            raise ApiError("forbidden", f"{actor.name} is a {actor.role}; {route} needs {needed}")

    async def _actor(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError("unauthenticated", "a valid admin bearer token is required")
        if self._bootstrap is not None and hmac.compare_digest(token.encode(), self._bootstrap):
            return BOOTSTRAP_ACTOR
        actor = await self._lookup(token)
        if actor is None:
            raise ApiError("unauthenticated", "a valid admin bearer token is required")
        return actor
