"""Running a use case from a command: the container, output for people or scripts, errors.

An expected error (a broken business rule, a dependency down) prints one clear line and
exits 1; usage errors exit 2 (click's own); a traceback means a bug.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from domain.errors import DomainError
from entrypoints.container import Container, build_container, close_container
from entrypoints.settings import Settings

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)


def run(work: Callable[[Container], Awaitable[T]], settings: Settings | None = None) -> T:
    """Build the container, run `work`, close everything; DomainError -> exit 1."""

    async def main() -> T:
        container = build_container(settings or Settings.from_env())
        try:
            return await work(container)
        except BaseException:
            # A failed aiosqlite connect stops its helper thread through this loop; let it,
            # or the thread prints a traceback once asyncio.run() has closed the loop.
            await asyncio.sleep(0.05)
            raise
        finally:
            await close_container(container)

    try:
        return asyncio.run(main())
    except DomainError as error:
        errors.print(
            f"[red]error[/red] ({error.code}): {error.message}", highlight=False, soft_wrap=True
        )
        sys.exit(1)


def emit(value: Any, as_json: bool, table: Callable[[Any], Table] | None = None) -> None:
    if as_json or table is None:
        click.echo(json.dumps(value, indent=2, ensure_ascii=False))
    else:
        console.print(table(value))


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
