"""`paygate serve-risk`: the built-in rule engine over HTTP."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, post

from adapters.risk.wire import ASSESS_PATH, Evaluator, MalformedRiskRequest, answer_assessment
from entrypoints.services.common import error, json_bytes, service_app


def risk_app(
    engine: Evaluator, metrics_route: Any = None, *, token: str | None = None
) -> Litestar:
    @post(ASSESS_PATH, status_code=200)
    async def assess(request: Request[Any, Any, Any]) -> Response[bytes]:
        try:
            return json_bytes(await answer_assessment(engine, await request.body()))
        except MalformedRiskRequest as exc:
            return error(422, str(exc))

    return service_app([assess], metrics_route=metrics_route, token=token)
