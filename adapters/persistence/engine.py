"""Engines for SQLite (aiosqlite, the embedded default) and PostgreSQL (asyncpg).

SQLite needs more care than PostgreSQL: WAL so readers never block the writer, a busy
timeout so a waiting writer sleeps instead of failing, foreign keys switched on, and
paygate's own BEGIN (see `BEGIN_MODE` and docs/adr/0005) so a write unit takes the
write lock when it starts rather than when it first writes, and a `WriteGate` that
queues this process's writers in order before they reach that lock.

PostgreSQL needs a bound on every statement (`statement_timeout`): the server cancels one
that waits too long, and `watchdog` closes a connection whose server stopped answering.

Behind a transaction pooler (`pooler="pgbouncer"`, docs/adr/0027) a server connection is
ours for one transaction only, so nothing may outlive one: no named prepared statements
(asyncpg's and SQLAlchemy's statement caches are off, so each statement is prepared
unnamed inside its transaction), no startup parameters (the statement timeout and
`search_path` are set with `set_config(..., true)` at the start of each transaction), and
no statement outside a transaction (a statement prepared in one round trip and bound in
the next could meet another server connection).
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import msgspec
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, Pool, PoolResetState, StaticPool

from adapters.persistence import watchdog
from adapters.persistence.gate import install_connection_gate, install_gate
from adapters.persistence.sqlite_connections import INFO_KEY, KEY_FUNCTION, OwnedConnection, adopt

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./paygate.db"

BEGIN_MODE = "paygate_begin"
"""Execution option read on SQLite when a transaction starts through the engine.

`"IMMEDIATE"` takes the write lock at BEGIN (migrations), `"DEFERRED"` (the default) takes
a read snapshot, `None` emits no BEGIN at all: each statement commits on its own (the
single statements of `autocommit`). PostgreSQL ignores it. Units of work send their own
BEGIN on the driver connection (`driver.SqliteTransaction`, same modes).
"""
IMMEDIATE, DEFERRED = "IMMEDIATE", "DEFERRED"

UNANSWERED_GRACE = 1.0
"""Seconds past the statement timeout before the client gives up on the server: long
enough for the server's own cancel (the clean way out, the connection stays good) to
arrive first, so the client's (the connection is closed) only acts when nothing answers."""


PGBOUNCER = "pgbouncer"
POOLERS = ("none", PGBOUNCER)
"""`PAYGATE_DATABASE_POOLER`: what sits between paygate and PostgreSQL. `none` (a direct
connection, or a pooler in session mode) or `pgbouncer` (PgBouncer in transaction mode)."""

_TRANSACTION_SETUP: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()

URL_OPTIONS = frozenset({
    "search_path", "ssl", "sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl",
    "passfile", "service", "servicefile", "target_session_attrs", "krbsrvname", "gsslib",
})
"""Options a PostgreSQL URL may carry as text (asyncpg takes them as strings)."""
NUMERIC_URL_OPTIONS = frozenset({
    "statement_cache_size", "prepared_statement_cache_size", "max_cached_statement_lifetime",
    "max_cacheable_statement_size",
})
"""Options a PostgreSQL URL may carry as whole numbers: paygate passes them as numbers
(asyncpg would be handed the string and fail on every connection)."""
_NO_CACHE = ("statement_cache_size", "prepared_statement_cache_size")


def url_problem(url: str | URL, pooler: str = "none") -> str | None:
    """What makes `url` unusable with `pooler` (one line, naming the option, not the
    URL, which may hold a password), or None. Checked at start-up, so that an option the
    driver cannot use stops the process instead of failing every request."""
    if pooler not in POOLERS:
        return f"PAYGATE_DATABASE_POOLER must be one of {', '.join(POOLERS)}, not {pooler!r}"
    sa_url = make_url(url)
    if sa_url.get_driver_name() != "asyncpg":
        if pooler == PGBOUNCER:
            return "PAYGATE_DATABASE_POOLER=pgbouncer needs a postgresql+asyncpg:// URL"
        return None
    for name, value in sa_url.query.items():
        if name in NUMERIC_URL_OPTIONS:
            if not isinstance(value, str) or not value.isdigit():
                return f"PAYGATE_DATABASE_URL option {name} must be a whole number"
            if pooler == PGBOUNCER and name in _NO_CACHE and int(value) != 0:
                return (f"PAYGATE_DATABASE_URL option {name} must be 0 (or absent) behind "
                        "pgbouncer: a prepared statement does not outlive its transaction")
        elif name not in URL_OPTIONS:
            return (f"PAYGATE_DATABASE_URL option {name!r} is not one paygate passes on "
                    f"(it reads {', '.join(sorted(URL_OPTIONS | NUMERIC_URL_OPTIONS))})")
    return None


def transaction_setup(engine: AsyncEngine | Engine) -> str | None:
    """None for a direct connection; behind a transaction pooler, the statement that
    starts each transaction's settings (`""` when there are none)."""
    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    return _TRANSACTION_SETUP.get(sync)


def json_text(value: Any) -> str:
    """The text of a JSON column's value: msgspec writes a small object in ~0.1 µs where
    `json.dumps` takes ~1.5 µs, four times per payment. Same JSON, without the ASCII
    escapes (JSONB normalizes it anyway); a value JSON cannot hold is a `TypeError`."""
    return msgspec.json.encode(value).decode()


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str | URL = DEFAULT_DATABASE_URL,
    *,
    pool_size: int = 20,
    max_overflow: int = 0,
    pool_timeout: float = 10.0,
    busy_timeout_ms: int = 5_000,
    connect_timeout: float = 10.0,
    statement_timeout: float | None = None,
    poolclass: type[Pool] | None = None,
    connect_args: dict[str, Any] | None = None,
    echo: bool = False,
    pooler: str | None = None,
) -> AsyncEngine:
    """An async engine for `url`, with the SQLite pragmas and locking already applied.

    `pool_size`/`max_overflow`/`pool_timeout` size the connection pool (ignored by pools
    that do not queue, such as `NullPool`). No overflow by default: the pool closes an
    overflow connection as soon as it comes back to a full pool, so under uneven load it
    reconnected over and over (a PostgreSQL backend started each time, ~10 % of the
    gateway's CPU per payment, bench/inprocess.py); `pool_size` connections stay open.
    On SQLite the pool hands out the connection returned last: SQLite empties a
    connection's page cache whenever another connection writes, so with writers taking
    turns the FIFO pool's next connection was always cold (a payment's statements cost
    ~90 µs more of CPU). PostgreSQL keeps FIFO, which measured as fast, so that every
    pooled connection keeps being used and none idles long enough for a firewall or a proxy
    to drop it unnoticed (a unit on such a one waits for the watchdog to close it).
    `busy_timeout_ms` is how long an SQLite writer waits for the lock before the unit of
    work reports `Unavailable`; `connect_timeout` bounds a PostgreSQL connection attempt
    (asyncpg would wait a minute). A PostgreSQL URL may carry `?search_path=schema`.

    `statement_timeout` (seconds; None or 0: unbounded, what migrations use) bounds every
    PostgreSQL statement twice: the server cancels one that runs or waits on a lock longer
    (SQLSTATE 57014: its transaction rolls back, the connection stays pooled), and the
    client, `UNANSWERED_GRACE` later, gives up on a server that does not answer at all (a
    dead host, a dropped network path) and closes that connection (`watchdog`). Both
    surface as `Unavailable`. Without it such a statement waits for TCP to notice, about
    two hours. SQLite ignores it: its statements are local, and `busy_timeout_ms` bounds lock waits.

    `pooler` (`POOLERS`) says what is between paygate and the server; behind `pgbouncer`
    the engine keeps nothing on a server connection beyond a transaction (module doc).
    A URL `url_problem` refuses raises `ValueError`.
    """
    problem = url_problem(url, pooler or "none")
    if problem is not None:
        raise ValueError(problem)
    sa_url = make_url(url)
    args = dict(connect_args or {})
    setup: str | None = None
    if sa_url.get_driver_name() == "asyncpg":
        sa_url = _schema_from_query(sa_url, args)
        sa_url = _numbers_from_query(sa_url, args)
        args.setdefault("timeout", connect_timeout)
        args.setdefault("connection_class", watchdog.WatchedConnection)
        if statement_timeout:
            _bound_statements(args, statement_timeout)
        if pooler == PGBOUNCER:
            setup = _per_transaction(args)
    sqlite = is_sqlite(sa_url)
    if sqlite:
        # units of work run their statements on the loop's thread (driver.SqliteTransaction),
        # on a sqlite3 connection of paygate's own class (sqlite_connections.py)
        args.setdefault("check_same_thread", False)
        args["factory"] = OwnedConnection
    options: dict[str, Any] = {"echo": echo, "connect_args": args, "json_serializer": json_text}
    if sqlite:
        options["pool_reset_on_return"] = None  # `_reset_sqlite` below, without a trip
    if poolclass is not None:
        options["poolclass"] = poolclass
    queued = poolclass not in (NullPool, StaticPool) and not _is_memory(sa_url)
    if queued:
        options.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout,
                       pool_use_lifo=sqlite)
    engine = create_async_engine(sa_url, **options)
    if setup is not None:
        _set_up_transactions(engine, setup)
    if queued:
        install_connection_gate(engine, pool_size + max_overflow, pool_timeout)
    if sqlite:
        _configure_sqlite(engine, busy_timeout_ms)
        install_gate(engine, busy_timeout_ms / 1000)
    elif statement_timeout:
        _watch_connections(engine, statement_timeout + UNANSWERED_GRACE)
    return engine


def _bound_statements(connect_args: dict[str, Any], seconds: float) -> None:
    settings = dict(connect_args.get("server_settings") or {})
    settings.setdefault("statement_timeout", str(max(1, round(seconds * 1000))))
    connect_args["server_settings"] = settings


def _per_transaction(connect_args: dict[str, Any]) -> str:
    """Behind a transaction pooler: the statement caches off, and the server settings
    taken out of the startup packet (PgBouncer refuses or drops them) into the statement
    that starts each transaction, `set_config(name, value, true)` being `SET LOCAL`."""
    connect_args["statement_cache_size"] = 0  # asyncpg's: statements prepared unnamed
    connect_args["prepared_statement_cache_size"] = 0  # SQLAlchemy's, the same
    settings = connect_args.pop("server_settings", None) or {}
    calls = ", ".join(
        f"set_config({_literal(name)}, {_literal(str(value))}, true)"
        for name, value in sorted(settings.items())
    )
    return f"SELECT {calls}" if calls else ""


def _literal(text_: str) -> str:
    return "'" + text_.replace("'", "''") + "'"


def _set_up_transactions(engine: AsyncEngine, setup: str) -> None:
    """Register `setup` for the units of work (they send it with their BEGIN, `driver`),
    and run it at the start of every transaction SQLAlchemy opens (the migration check,
    the statements of `Autocommit`, readiness)."""
    sync_engine = engine.sync_engine
    _TRANSACTION_SETUP[sync_engine] = setup
    if not setup:
        return

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql(setup)


def _numbers_from_query(url: URL, connect_args: dict[str, Any]) -> URL:
    """The numeric options of a PostgreSQL URL, as numbers (`url_problem` checked them)."""
    present = [name for name in NUMERIC_URL_OPTIONS if name in url.query]
    for name in present:
        connect_args.setdefault(name, int(str(url.query[name])))
    return url.difference_update_query(present) if present else url


def _watch_connections(engine: AsyncEngine, seconds: float) -> None:
    """Every connection the engine opens gets the watchdog's limit. Units of work tell the
    watchdog about their commands themselves (`driver`); the statements run through
    SQLAlchemy (idempotency keys, the order service, readiness) do it from these events."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        watchdog.limit(dbapi_connection.driver_connection, seconds)

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _sent(conn: Connection, *_: Any) -> None:
        watchdog.sent(conn.connection.driver_connection)

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _answered(conn: Connection, *_: Any) -> None:
        watchdog.answered(conn.connection.driver_connection)

    @event.listens_for(sync_engine, "handle_error")
    def _failed(context: ExceptionContext) -> None:
        pooled = context.connection
        if pooled is not None and not pooled.invalidated:
            watchdog.answered(pooled.connection.driver_connection)


def _schema_from_query(url: URL, connect_args: dict[str, Any]) -> URL:
    """`?search_path=s` on a PostgreSQL URL selects a schema (asyncpg takes it only as a
    server setting), so one URL string is enough to point every process at it."""
    search_path = url.query.get("search_path")
    if not search_path:
        return url
    settings = dict(connect_args.get("server_settings") or {})
    settings["search_path"] = str(search_path)
    connect_args["server_settings"] = settings
    return url.difference_update_query(["search_path"])


def _is_memory(url: URL) -> bool:
    return is_sqlite(url) and url.database in (None, "", ":memory:")


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # paygate emits BEGIN itself; the driver must not open transactions on its own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"SELECT {KEY_FUNCTION}()")  # which OwnedConnection this is
            key = cursor.fetchone()[0]
            record.info[INFO_KEY] = adopt(dbapi_connection.driver_connection, key)
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "reset")
    def _reset_sqlite(
        dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState
    ) -> None:
        # The pool's own reset would send ROLLBACK through aiosqlite's thread for every
        # connection returned: a trip per unit of work. Units end their transactions
        # themselves (or drop the connection), so roll back only one still open.
        if state.asyncio_safe and not state.transaction_was_reset:
            raw = record.info.get(INFO_KEY)
            if raw is not None and raw.in_transaction:
                dbapi_connection.rollback()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_MODE, DEFERRED)
        if mode is None:
            return
        if mode not in (IMMEDIATE, DEFERRED):
            raise ValueError(f"{BEGIN_MODE} must be {IMMEDIATE!r}, {DEFERRED!r} or None")
        connection.exec_driver_sql(f"BEGIN {mode}")


async def ping(engine: AsyncEngine) -> None:
    """`SELECT 1`, autocommitted: one round trip, and nothing sent once it is answered
    (in a transaction the pool would send a ROLLBACK as the connection goes back, which
    the watchdog does not see). What the readiness check runs."""
    if transaction_setup(engine) is not None:  # nothing outside a transaction
        async with engine.connect() as conn:
            await conn.execute(_PING)
        return
    async with autocommit(engine).connect() as conn:
        await conn.execute(_PING)


_PING = text("SELECT 1")


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """A view of `engine` whose statements each commit on their own: one round trip each.

    For single-statement work outside any unit of work (idempotency keys, the order book),
    where BEGIN and COMMIT would triple the cost and add nothing. Behind a transaction
    pooler the engine itself: `sql.Autocommit` then gives each statement its transaction.
    """
    if transaction_setup(engine) is not None:
        return engine
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{BEGIN_MODE: None})
    return engine.execution_options(isolation_level="AUTOCOMMIT")
