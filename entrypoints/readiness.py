"""`/health/ready` for the gateway and the split services: each check within its time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import HttpMethod
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import ping

READY_TIMEOUT = 2.0
PROBE_METHODS = [HttpMethod.GET, HttpMethod.HEAD]  # some load balancers probe with HEAD
ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]


def database_check(engine: AsyncEngine) -> ReadinessCheck:
    """The database answers one autocommitted `SELECT 1`."""

    async def database() -> tuple[bool, str]:
        await ping(engine)
        return True, "reachable"

    return database


async def readiness_report(checks: Mapping[str, ReadinessCheck]) -> tuple[dict[str, Any], int]:
    """The probe's body and status: 200 when every check passed, else 503 naming it."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        try:
            ok, detail = await asyncio.wait_for(check(), READY_TIMEOUT)
        except Exception as error:
            ok, detail = False, f"{type(error).__name__}: {error}"[:200]
        results[name] = {"ok": ok, "detail": detail}
    healthy = all(result["ok"] for result in results.values())
    return {"status": "ok" if healthy else "unavailable", "checks": results}, (
        200 if healthy else 503)
