"""Serving the split-out risk, order and channel services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from entrypoints.cli.common import speak_json
from entrypoints.cli.serving import host_option
from entrypoints.settings import Settings


def _serve(factory: str, host: str, port: int) -> None:
    import uvicorn

    from entrypoints.telemetry import configure_process_logging

    settings = Settings.from_env()
    configure_process_logging(settings)
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
    )


def _port(default: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--port", type=click.IntRange(0, 65535), default=default, show_default=True)


@click.command("serve-risk")
@host_option
@_port(8001)
def serve_risk(host: str, port: int) -> None:
    """The built-in risk rules as a service (the gateway uses it via PAYGATE_RISK_URL)."""
    from entrypoints.wiring import master_key_text

    speak_json()
    master_key_text(Settings.from_env())  # card fingerprints are keyed with it
    _serve("entrypoints.services.asgi:risk_from_env", host, port)


@click.command("serve-order")
@host_option
@_port(8002)
def serve_order(host: str, port: int) -> None:
    """The order book as a service (PAYGATE_ORDER_URL); it migrates its own database."""
    from entrypoints.container import upgrade
    from entrypoints.telemetry import configure_process_logging

    speak_json()
    settings = Settings.from_env()
    configure_process_logging(settings)  # the migration's lines are JSON too
    upgrade(settings)
    _serve("entrypoints.services.asgi:order_from_env", host, port)


@click.command("serve-channel")
@host_option
@_port(8003)
def serve_channel(host: str, port: int) -> None:
    """The sandbox acquirer as a service (PAYGATE_CHANNEL_URL)."""
    speak_json()
    _serve("entrypoints.services.asgi:channel_from_env", host, port)
