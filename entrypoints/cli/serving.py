"""Serving: the gateway, the background worker, and the one-command quickstart."""

from __future__ import annotations

import asyncio
import json
import signal

import click
import uvicorn

from adapters.persistence import is_sqlite
from entrypoints.cli.common import console
from entrypoints.cli.signing import curl_command
from entrypoints.container import build_container, close_container, ensure_demo_merchant, upgrade
from entrypoints.settings import Settings
from entrypoints.telemetry import configure_process_logging
from observability.multiprocess import prepare_multiprocess_dir

ASGI_FACTORY = "entrypoints.http.asgi:create_app_from_env"


SQLITE_WORKERS_WARNING = (
    "warning: SQLite has one write lock per database file, so more than one worker adds no"
    " payments per second and makes the slowest requests much slower (docs/benchmarks.md);"
    " use PostgreSQL for several workers"
)


def serve_gateway(host: str, port: int, workers: int) -> None:
    settings = Settings.from_env()
    if workers > 1 and is_sqlite(settings.database_url):
        click.echo(SQLITE_WORKERS_WARNING, err=True)
    if settings.auto_upgrade:
        upgrade(settings)
    if settings.metrics:
        prepare_multiprocess_dir(workers)
    uvicorn.run(
        ASGI_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,
        lifespan="on",
    )


host_option = click.option("--host", default="127.0.0.1", show_default=True)
port_option = click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)


@click.command()
@host_option
@port_option
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the HTTP API (and, unless PAYGATE_WORKER=off, the background worker)."""
    serve_gateway(host, port, workers)


@click.command()
def worker() -> None:
    """Deliver webhooks and reconcile in-flight payments, without serving HTTP."""

    async def main() -> None:
        settings = Settings.from_env()
        configure_process_logging(settings)
        container = build_container(settings)
        background = container.background()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        background.start()
        try:
            await stop.wait()  # a job in progress finishes its current statement, then stops
        finally:
            await background.stop()
            await close_container(container)

    asyncio.run(main())


@click.command()
@host_option
@port_option
def quickstart(host: str, port: int) -> None:
    """Create/upgrade the SQLite database, make a demo merchant if there is none, and serve."""
    settings = Settings.from_env()
    upgrade(settings)
    created = asyncio.run(ensure_demo_merchant(settings))
    if created is not None:
        body = json.dumps(
            {
                "order_no": "ORDER-001",
                "amount": 10000,
                "currency": "USD",
                "channel": "sandbox",
                "payment_method": {
                    "type": "card",
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            },
            separators=(",", ":"),
        )
        console.print("[bold]demo merchant created; its secret is shown only now:[/bold]")
        console.print(json.dumps(created, indent=2), highlight=False)
        console.print("\na signed payment you can paste (valid for 5 minutes):")
        console.print(
            curl_command(
                f"http://{host}:{port}",
                created["api_key"],
                created["api_secret"],
                "POST",
                "/api/v1/payments",
                body,
            ),
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            "\nor sign your own: paygate sign POST /api/v1/payments --key ... "
            "--secret ... --data '...'\n"
        )
    serve_gateway(host, port, 1)
