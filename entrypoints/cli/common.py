"""Running a use case from a command: the container, output for people or scripts, errors.

An expected error (a broken business rule, a dependency down) prints one clear line and
exits 1; usage errors exit 2 (click's own); a traceback means a bug.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from application.errors import Unavailable
from domain.errors import DomainError
from entrypoints.settings import ConfigurationError, Settings
from observability.logging import json_handler

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

    from entrypoints.composition import Services

# SQLAlchemy, alembic and the container are imported by the functions that use them: a
# command that opens no database (`--help`, `sign`, a usage error) starts without them.

T = TypeVar("T")

# What a terminal obeys rather than shows: C0 (ESC starts CSI and OSC sequences), DEL, C1
# (U+009B is a one-character CSI), and the line separators and bidi overrides that make text
# read other than it is. A merchant chooses descriptions and reasons; an operator reads them.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNPRINTABLE_IN_JSON = re.compile(  # json.dumps has \u-escaped C0 already
    "[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """`text` with each character a terminal would obey shown as its escape (`\\x1b`,
    `\\u009b`, `\\n`), so that what the operator reads is what was stored."""
    return _UNPRINTABLE.sub(_escaped, text)


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


class _PlainConsole(Console):
    """The console every command's human-readable output goes through: each string it renders
    (a table's cells and title, a line) is shown as it is, control characters escaped and
    never read as markup (a merchant's `[link=...]` is no hyperlink)."""

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False, highlight=False)
        return super().render_str(printable(text), **options)


console: Console = _PlainConsole()
errors = Console(stderr=True)
UPGRADE = "paygate db upgrade"
MIGRATION_LOGGER = "alembic.runtime.migration"


def run(work: Callable[[Services], Awaitable[T]], settings: Settings | None = None) -> T:
    """Build the container, run `work` with its use cases, close everything; a refused
    rule or an outage (DomainError, Unavailable) -> one line, exit 1."""
    from entrypoints.container import build_container, close_container, services_of
    from entrypoints.master_key import check_master_key
    from entrypoints.wiring import make_vault

    async def main() -> T:
        settings_ = settings or Settings.from_env()
        make_vault(settings_)  # no key configured: refused before the database is opened
        await check_schema(settings_.database_url, settings_.database_pooler)
        await check_master_key(settings_)
        container = build_container(settings_)
        try:
            return await work(services_of(container))
        except BaseException:
            # A failed aiosqlite connect stops its helper thread through this loop; let it,
            # or the thread prints a traceback once asyncio.run() has closed the loop.
            await asyncio.sleep(0.05)
            raise
        finally:
            await close_container(container)

    try:
        return asyncio.run(main())
    except (DomainError, Unavailable) as error:
        fail(error)


class _Stderr:
    """Whatever `sys.stderr` is when a line is written (a test's runner swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_refusals = logging.getLogger("paygate.startup")
_refusals.propagate = False
_refusals.addHandler(json_handler(_Stderr()))  # type: ignore[arg-type]
_speaking_json = [False]


def speak_json(on: bool = True) -> None:
    """This command is a server process (`serve`, `worker`, ...): every line it writes from
    now on is JSON, its refusals to start included (on stderr), as log collectors expect."""
    _speaking_json[0] = on


def say_error(code: str, message: str) -> None:
    """One line on stderr: `error (code): message` for people, a JSON line from a server."""
    if _speaking_json[0]:
        _refusals.error("%s", message, extra={"error_code": code})
    else:
        line = Text.assemble(("error", "red"), f" ({code}): {printable(message)}")
        errors.print(line, highlight=False, soft_wrap=True)


def say_note(message: str) -> None:
    """One line on stderr beside a command's result (stdout stays the table or the JSON)."""
    errors.print(Text(f"note: {printable(message)}"), highlight=False, soft_wrap=True)


def fail(error: DomainError | Unavailable) -> NoReturn:
    """One line with the error's code on stderr, exit 1."""
    say_error(error.code, error.message)
    sys.exit(1)


def shown_url(url: str) -> str:
    """A database URL fit to print: its password, if it has one, masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: say nothing of it
        return "(the configured database)"


def _missing_sqlite_file(url: str) -> str | None:
    """The path of an SQLite database file that does not exist, else None."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    return None if path.startswith("file:") or Path(path).exists() else path


def _migrations() -> ScriptDirectory:
    """paygate's migration scripts."""
    from alembic.script import ScriptDirectory

    from adapters.persistence.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config())


def newest_revision(scripts: ScriptDirectory | None = None) -> str:
    """The schema revision this paygate's migrations end at."""
    (head,) = (scripts or _migrations()).get_heads()
    return str(head)


async def check_schema(url: str, pooler: str = "none") -> None:
    """Refuse a database paygate has not made, or not brought to the newest schema, saying
    how to fix it, before the command writes anything (SQLite would make an empty file)."""
    missing = await asyncio.to_thread(_missing_sqlite_file, url)
    if missing is not None:
        raise Unavailable(f"no database at {missing}; create it with `{UPGRADE}`")
    current = await schema_revision(url, pooler)
    if current is None:
        raise Unavailable(f"the database has no paygate schema; create it with `{UPGRADE}`")
    scripts = _migrations()
    head = newest_revision(scripts)
    if current != head and current in known_revisions(scripts):  # an unknown one is newer
        raise Unavailable(
            f"the database schema is at revision {current}, this paygate needs {head};"
            f" run `{UPGRADE}`"
        )


def known_revisions(scripts: ScriptDirectory | None = None) -> set[str]:
    """Every schema revision this paygate's migrations know."""
    scripts = scripts or _migrations()
    return {revision.revision for revision in scripts.walk_revisions()}


async def check_not_newer(url: str, pooler: str = "none") -> None:
    """Before `db upgrade`: refuse, in one line (exit 2), a database at a revision this
    paygate does not know (a later release's, met when rolling back); alembic would stop
    with a traceback. A database that does not exist yet is fine: the upgrade makes it."""
    if await asyncio.to_thread(_missing_sqlite_file, url) is not None:
        return
    current = await schema_revision(url, pooler)
    if current is not None and current not in known_revisions():
        raise ConfigurationError(
            f"the database is at revision {current}, which this paygate does not know"
            f" (newest: {newest_revision()}); nothing upgraded")


async def schema_revision(url: str, pooler: str = "none") -> str | None:
    """The database's schema revision, None when it has no paygate schema."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    from adapters.persistence import create_engine
    from adapters.persistence.errors import translated

    engine = create_engine(url, poolclass=NullPool, pooler=pooler)
    try:
        with translated("reading the schema version"), _quiet(MIGRATION_LOGGER):
            async with engine.connect() as conn:
                current = await conn.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
    except DBAPIError as error:  # e.g. no such PostgreSQL database, or access refused
        detail = str(getattr(error, "orig", error)).strip().splitlines()[:1]
        raise Unavailable(f"cannot open the database: {''.join(detail)}") from error
    finally:
        await engine.dispose()
    return None if current is None else str(current)


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Reading the revision is not migrating: alembic's two INFO lines about its dialect
    would open every server's log (and a refusal's one line) with noise."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def emit(value: Any, as_json: bool, table: Callable[[Any], Table] | None = None) -> None:
    """A command's result: JSON for scripts (every control character \\u-escaped, DEL and
    C1 too, which `json.dumps` leaves raw), else the table, on the console that escapes."""
    if as_json or table is None:
        text = json.dumps(value, indent=2, ensure_ascii=False)
        click.echo(_UNPRINTABLE_IN_JSON.sub(_json_escaped, text))  # only in strings: valid
    else:
        console.print(table(value))


def say(line: str) -> None:
    """One line for people (`more: --cursor ...`), through the console that escapes."""
    console.print(line, soft_wrap=True)


def table_of(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    return table


def record_table(title: str, record: dict[str, Any]) -> Table:
    return table_of(
        title,
        ("field", "value"),
        (
            (key, json.dumps(value) if isinstance(value, (dict, list)) else value)
            for key, value in record.items()
        ),
    )


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")

MAX_TEXT_LENGTH = 500  # what the HTTP API takes for a refund's reason or a review's note


def short_text(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A free-text option the API would accept: at most `MAX_TEXT_LENGTH` characters."""
    if value is not None and len(value) > MAX_TEXT_LENGTH:
        raise click.BadParameter(
            f"at most {MAX_TEXT_LENGTH} characters, got {len(value)}", param=param
        )
    return value


OPERATOR_ENV = "PAYGATE_OPERATOR"


def _operator_named(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    if not value or not value.strip():
        raise click.UsageError(
            f"say who is acting: --operator NAME or {OPERATOR_ENV}=NAME (the audit trail "
            "records it; `paygate operators list` names the operators, `bootstrap` is the "
            "PAYGATE_ADMIN_TOKEN admin)", ctx=ctx)
    return value.strip()


operator_option = click.option(
    "--operator", "operator_name", envvar=OPERATOR_ENV, callback=_operator_named,
    help=f"The operator doing this, recorded in the audit trail (or {OPERATOR_ENV}).")
"""For every command that changes state: who does it. Missing, the command exits 2."""
