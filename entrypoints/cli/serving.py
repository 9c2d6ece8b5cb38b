"""Serving: the gateway and the background worker."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from application.errors import Unavailable
from domain.errors import DomainError
from entrypoints.cli.common import check_schema, fail, speak_json
from entrypoints.settings import Settings
from entrypoints.supervision import watch_workers
from observability.multiprocess import prepare_multiprocess_dir

# uvicorn, the container and the adapters are imported by the commands that serve: defining
# these commands (for `paygate --help`, or any other command) needs none of them.

ASGI_FACTORY = "entrypoints.http.asgi:create_app_from_env"
WORKER_HEALTHCHECK_SECONDS = 30
"""How long the supervisor waits for a worker's answer before taking it for hung (uvicorn's
default, 5 s, is less than a worker's start-up on a loaded host: importing paygate took
10 s at a load of 11 on two cores, and every worker was killed before it could serve)."""
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
OPEN_METRICS_WARNING = (
    "/metrics answers anyone who reaches %s:%d, the merchants' port, with every merchant's "
    "volumes and amounts: set PAYGATE_METRICS_TOKEN and give Prometheus the same bearer "
    "token (docs/adr/0024)"
)
log = logging.getLogger(__name__)


SQLITE_WORKERS_WARNING = (
    "SQLite has one write lock per database file, so more than one worker adds no"
    " payments per second and makes the slowest requests much slower (docs/benchmarks.md);"
    " use PostgreSQL for several workers"
)


def prepare_database(settings: Settings) -> None:
    """Before a process serves: a master key configured, the schema upgraded (unless told
    not to), and the key the one the database's secrets are sealed with (docs/adr/0022).

    A database already at the newest schema has its key checked first, so a process with
    the wrong key says so in one line and changes nothing. A database that cannot be
    reached yet does not stop a server that was told not to upgrade it (it starts unready,
    as before); its key is then checked by `/health/ready`.
    """
    from entrypoints.container import upgrade
    from entrypoints.wiring import make_vault

    make_vault(settings)
    if asyncio.run(_key_checked_if_current(settings)):
        return
    if settings.auto_upgrade:
        upgrade(settings)
    try:
        asyncio.run(_check_key(settings))
    except (DomainError, Unavailable) as error:  # the database cannot be reached
        if settings.auto_upgrade:
            fail(error)
        log.warning("the master key could not be checked against the database at start "
                    "(%s); /health/ready checks it", error.message)


async def _key_checked_if_current(settings: Settings) -> bool:
    from entrypoints.master_key import check_master_key

    try:
        await check_schema(settings.database_url, settings.database_pooler)
    except (DomainError, Unavailable):  # no database yet, an older schema, or not reachable
        return False
    await check_master_key(settings)
    return True


async def _check_key(settings: Settings) -> None:
    from entrypoints.master_key import check_master_key

    await check_schema(settings.database_url, settings.database_pooler)
    await check_master_key(settings)


def serve_gateway(host: str, port: int, workers: int) -> None:
    import uvicorn

    from adapters.persistence import is_sqlite
    from entrypoints.edge.slow_clients import PROTOCOL as SLOW_CLIENTS_PROTOCOL
    from entrypoints.telemetry import configure_process_logging

    settings = Settings.from_env()
    configure_process_logging(settings)  # the supervisor's own lines are JSON too
    watch_workers()
    if workers > 1 and is_sqlite(settings.database_url):
        log.warning(SQLITE_WORKERS_WARNING)
    if settings.metrics and not settings.metrics_token and host not in LOOPBACK:
        log.warning(OPEN_METRICS_WARNING, host, port)
    prepare_database(settings)
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
        http=SLOW_CLIENTS_PROTOCOL,  # a deadline on reading headers (docs/adr/0024)
        limit_concurrency=settings.max_connections,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


host_option = click.option("--host", default="127.0.0.1", show_default=True)
port_option = click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)


@click.command()
@host_option
@port_option
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the HTTP API (and, unless PAYGATE_WORKER=off, the background worker)."""
    speak_json()
    serve_gateway(host, port, workers)


@click.command()
def worker() -> None:
    """Deliver webhooks and reconcile in-flight payments, without serving HTTP."""
    from entrypoints.container import build_container, close_container
    from entrypoints.master_key import check_master_key
    from entrypoints.telemetry import configure_process_logging
    from entrypoints.wiring import make_vault

    speak_json()
    settings = Settings.from_env()
    configure_process_logging(settings)
    make_vault(settings)
    try:
        asyncio.run(check_master_key(settings))
    except (DomainError, Unavailable) as error:
        fail(error)

    async def main() -> None:
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
