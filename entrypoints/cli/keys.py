"""`paygate keys`: the master key that seals merchant secrets, and its rotation."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from application.errors import Unavailable
from domain.errors import DomainError
from entrypoints.cli.common import (
    check_schema,
    emit,
    fail,
    json_option,
    operator_option,
    record_table,
    say_error,
)
from entrypoints.settings import Settings

T = TypeVar("T")


@click.group()
def keys() -> None:
    """The master key (PAYGATE_MASTER_KEY): which one the database uses, and rotation."""


@keys.command("show")
@json_option
def show(as_json: bool) -> None:
    """The key the database's secrets are sealed with, and the keys this process holds."""
    from entrypoints.master_key import check_master_key, short
    from entrypoints.wiring import make_vault

    settings = Settings.from_env()
    vault = make_vault(settings)
    record = _run(check_master_key, settings)
    emit({"database_sealed_with": short(record.fingerprint),
          "previous": short(record.previous_fingerprint or "") or None,
          "this_process_holds": [short(f) for f in vault.fingerprints]},
         as_json, lambda r: record_table("master key", r))


@keys.command("rotate")
@operator_option
@json_option
def rotate(operator_name: str, as_json: bool) -> None:
    """Re-seal every secret under PAYGATE_MASTER_KEY, online.

    Give every process the new key as PAYGATE_MASTER_KEY and the old one as
    PAYGATE_PREVIOUS_MASTER_KEY first (they then open both), run this, then drop the old
    key. Running it again re-seals whatever was sealed under the old key meanwhile.
    """
    from entrypoints.master_key import rotate_master_key
    from entrypoints.wiring import make_vault

    settings = Settings.from_env()
    make_vault(settings)
    done = _run(lambda s: rotate_master_key(s, operator_name), settings)
    emit(done, as_json, lambda r: record_table("master key rotated", _flat(r)))
    if done["not_opened"]:
        say_error("not_opened", f"{done['not_opened']} values are sealed under a key this "
                  "process lacks; they were left as they are")
        sys.exit(1)


def _run(work: Callable[[Settings], Awaitable[T]], settings: Settings) -> T:
    """`work` on a database at the newest schema; the database down is one line, exit 1."""

    async def main() -> T:
        await check_schema(settings.database_url, settings.database_pooler)
        return await work(settings)

    try:
        return asyncio.run(main())
    except (DomainError, Unavailable) as error:
        fail(error)


def _flat(result: dict[str, Any]) -> dict[str, Any]:
    return {"sealed_with": result["sealed_with"],
            **{f"resealed {label}": n for label, n in result["resealed"].items()}}
