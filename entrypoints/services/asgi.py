"""ASGI factories that `paygate serve-risk|serve-order|serve-channel` hand to uvicorn."""

from __future__ import annotations

import logging
from typing import Any

from adapters.order.local import LocalOrderBook
from adapters.persistence.engine import create_engine
from adapters.risk.engine import RuleEngine
from adapters.risk.settings import RiskSettings
from entrypoints.readiness import database_check
from entrypoints.services.channel_service import channel_app
from entrypoints.services.order_service import order_app
from entrypoints.services.risk_service import risk_app
from entrypoints.settings import Settings
from entrypoints.telemetry import Telemetry, configure_process_logging
from entrypoints.wiring import fingerprint_key, make_sandbox

log = logging.getLogger(__name__)


def _telemetry(service: str) -> tuple[Settings, Telemetry]:
    settings = Settings.from_env()
    configure_process_logging(settings)
    if not settings.service_token:
        log.warning("PAYGATE_SERVICE_TOKEN is not set: %s answers anyone who can reach it; "
                    "set the same token here and on the gateway", service)
    return settings, Telemetry.for_process(settings, service)


def risk_from_env() -> Any:
    settings, telemetry = _telemetry("paygate-risk")
    engine = RuleEngine(RiskSettings(fingerprint_key=fingerprint_key(settings)))
    return telemetry.serve(
        risk_app(engine, telemetry.metrics_route(), token=settings.service_token))


def order_from_env() -> Any:
    settings, telemetry = _telemetry("paygate-order")
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size,
                           statement_timeout=settings.database_statement_timeout,
                           pooler=settings.database_pooler)

    async def close() -> Any:
        await engine.dispose()

    app = order_app(LocalOrderBook(engine), telemetry.metrics_route(), on_shutdown=[close],
                    token=settings.service_token, readiness={"database": database_check(engine)})
    return telemetry.serve(app)


def channel_from_env() -> Any:
    settings, telemetry = _telemetry("paygate-channel")
    channel = make_sandbox(settings)
    return telemetry.serve(
        channel_app(channel, telemetry.metrics_route(), token=settings.service_token))
