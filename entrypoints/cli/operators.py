"""`paygate operators` (named admin credentials) and `paygate audit list` (the trail)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from application.pagination import decode_cursor, encode_cursor
from application.ports.storage import AuditQuery
from application.views import audit_view
from domain.operator import Operator, Role
from domain.timestamps import rfc3339
from entrypoints.cli.common import (
    emit,
    json_option,
    operator_option,
    record_table,
    run,
    say,
    short_text,
    table_of,
)

if TYPE_CHECKING:
    from entrypoints.composition import Services

OPERATOR_COLUMNS = ("name", "role", "status", "created_at", "disabled_at")
AUDIT_COLUMNS = ("created_at", "actor", "role", "action", "object", "before", "after", "reason")


def operator_view(operator: Operator) -> dict[str, Any]:
    return {"name": operator.name, "role": operator.role.value, "status": operator.status,
            "created_at": rfc3339(operator.created_at),
            "disabled_at": None if operator.disabled_at is None else rfc3339(operator.disabled_at)}


@click.group()
def operators() -> None:
    """Named operators: their admin API tokens and their roles."""


@operators.command("create")
@click.option("--name", required=True, help="Who: 1-64 letters, digits, '.', '_', '-', '@'.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@operator_option
@json_option
def create_operator(name: str, role: str, operator_name: str, as_json: bool) -> None:
    """Make an operator and print its admin API token: it is shown this once."""

    async def work(s: Services) -> dict[str, Any]:
        actor = await s.identify_operator.by_name(operator_name)
        new = await s.create_operator(actor, name, role)
        return {"name": new.operator.name, "role": new.operator.role.value, "token": new.token}

    emit(run(work), as_json, lambda r: record_table("new operator (token shown once)", r))


@operators.command("list")
@json_option
def list_operators(as_json: bool) -> None:
    async def work(s: Services) -> list[dict[str, Any]]:
        return [operator_view(o) for o in await s.list_operators()]

    emit(run(work), as_json, lambda rows: table_of(
        "operators", OPERATOR_COLUMNS, ([r[k] for k in OPERATOR_COLUMNS] for r in rows)))


@operators.command("disable")
@click.argument("name")
@click.option("--reason", callback=short_text, help="Why, kept in the audit trail.")
@operator_option
@json_option
def disable_operator(name: str, reason: str | None, operator_name: str, as_json: bool) -> None:
    """Take an operator's token away, at once; its name stays in the trail."""

    async def work(s: Services) -> dict[str, Any]:
        actor = await s.identify_operator.by_name(operator_name)
        return operator_view(await s.disable_operator(actor, name, reason))

    emit(run(work), as_json, lambda r: record_table("operator disabled", r))


@click.group()
def audit() -> None:
    """The audit trail: every operator action, who, what, when. It cannot be changed."""


_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}"  # a day, midnight
    r"(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?"  # a second, maybe a fraction of one
    r"(?:[Zz]|[+-]\d{2}:\d{2})?)?")  # UTC or an offset: none is UTC too


class Instant(click.ParamType[datetime]):
    """An instant as every output prints it (RFC 3339: `2026-12-07T14:06:44.019Z`, or an
    offset), or the naive forms (a day, a second) taken as UTC."""

    name = "instant"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            moment = value
        else:
            text = str(value).strip()
            try:
                if not _INSTANT.fullmatch(text):
                    raise ValueError(text)
                moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            except ValueError:
                self.fail(f"{value!r} is not an instant: give RFC 3339 such as "
                          "2026-12-07T14:06:44.019Z or 2026-12-07T16:06:44+02:00, or a UTC "
                          "day or second such as 2026-12-07 or 2026-12-07T14:06:44",
                          param, ctx)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@audit.command("list")
@click.option("--actor", help="Only this operator's actions.")
@click.option("--object", "object_id", help="Only actions on this payment, refund, merchant...")
@click.option("--from", "created_from", type=Instant(),
              help="From this instant (inclusive); RFC 3339, or a day or second in UTC.")
@click.option("--to", "created_to", type=Instant(),
              help="Up to this instant (exclusive); RFC 3339, or a day or second in UTC.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--cursor", help="The next page, as the previous one said.")
@json_option
def list_audit(actor: str | None, object_id: str | None, created_from: datetime | None,
               created_to: datetime | None, limit: int, cursor: str | None,
               as_json: bool) -> None:
    """Newest first."""

    async def work(s: Services) -> dict[str, Any]:
        page = await s.list_audit(AuditQuery(
            actor=actor, object_id=object_id, created_from=created_from, created_to=created_to,
            limit=limit, cursor=decode_cursor(cursor)))
        return {"data": [audit_view(e) for e in page.items],
                "next_cursor": encode_cursor(page.next_cursor)}

    result = run(work)
    emit(result, as_json, lambda r: table_of(
        "audit trail", AUDIT_COLUMNS, ([e[k] for k in AUDIT_COLUMNS] for e in r["data"])))
    if not as_json and result["next_cursor"]:
        say(f"more: --cursor {result['next_cursor']}")
