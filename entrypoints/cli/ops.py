"""Operating paygate: the database, merchants, settlement, reconciliation, webhooks."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec
from rich.progress import Progress

from application.commands import CreateMerchantCommand, SettleCommand
from application.errors import NotFound, Unavailable
from application.views import routing_view, settlement_view
from domain.errors import DomainError, InvalidChannel
from domain.money import MAX_PAYMENT_MINOR_UNITS
from domain.operator import Action
from domain.timestamps import rfc3339
from entrypoints.cli.common import (
    check_not_newer,
    emit,
    errors,
    fail,
    json_option,
    newest_revision,
    operator_option,
    record_table,
    run,
    say,
    say_note,
    short_text,
    shown_url,
    table_of,
)
from entrypoints.http.schemas import RoutingIn
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from entrypoints.composition import Services

SETTLEMENT_COLUMNS = (
    "merchant_id",
    "currency",
    "date",
    "gross",
    "refunds",
    "fees",
    "net",
    "payment_count",
    "refund_count",
)


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@json_option
def db_upgrade(as_json: bool) -> None:
    """Create or migrate the database to the newest schema, and record (or check) the key
    its secrets are sealed with."""
    from entrypoints.container import upgrade
    from entrypoints.master_key import check_master_key
    from entrypoints.wiring import make_vault

    settings = Settings.from_env()
    make_vault(settings)
    try:
        asyncio.run(check_not_newer(settings.database_url, settings.database_pooler))
        upgrade(settings)
        asyncio.run(check_master_key(settings))
    except (DomainError, Unavailable) as error:  # the database cannot be reached
        fail(error)
    database = shown_url(settings.database_url)
    if as_json:
        emit({"database": database, "revision": newest_revision()}, as_json)
    else:
        say(f"database is at the newest schema: {database}")


@click.group()
def merchants() -> None:
    """Merchants and their API keys."""


@merchants.command("create")
@click.option("--name", required=True)
@click.option("--fee-bps", type=click.IntRange(0, 10_000), default=290, show_default=True)
@click.option(
    "--fee-fixed",
    type=click.IntRange(0, MAX_PAYMENT_MINOR_UNITS),  # no fee above the largest payment
    default=30,
    show_default=True,
    help="Minor units charged per payment.",
)
@operator_option
@json_option
def create_merchant(
    name: str, fee_bps: int, fee_fixed: int, operator_name: str, as_json: bool
) -> None:
    """Create a merchant and print its key and secrets: they are shown this once."""

    async def work(s: Services) -> dict[str, Any]:
        actor = await s.identify_operator.by_name(operator_name)
        new = await s.create_merchant(
            CreateMerchantCommand(name=name, fee_basis_points=fee_bps, fee_fixed=fee_fixed,
                                  actor=actor)
        )
        return {
            "merchant_id": new.merchant.merchant_id,
            "api_key": new.merchant.api_key,
            "api_secret": new.api_secret,
            "webhook_secret": new.webhook_secret,
        }

    emit(run(work), as_json, lambda r: record_table("new merchant (secrets shown once)", r))


MERCHANT_COLUMNS = ("merchant_id", "name", "active", "created_at")  # --json: key and fees too


@merchants.command("list")
@json_option
def list_merchants(as_json: bool) -> None:
    """Every merchant, oldest first: its id, name, API key (never its secrets), whether it is
    enabled, and its fees."""

    async def work(s: Services) -> list[dict[str, Any]]:
        return [
            {"merchant_id": m.merchant_id, "name": m.name, "api_key": m.api_key,
             "active": m.active, "fee_basis_points": m.fees.basis_points,
             "fee_fixed": m.fees.fixed, "created_at": rfc3339(m.created_at)}
            for m in await s.list_merchants()
        ]

    emit(run(work), as_json, _merchants_table)


def _merchants_table(rows: list[dict[str, Any]]) -> Any:
    table = table_of(
        "merchants", MERCHANT_COLUMNS, ([r[k] for k in MERCHANT_COLUMNS] for r in rows))
    ids = table.columns[0]  # what the operator copies: whole, the other columns give way
    ids.no_wrap = True
    ids.min_width = max((len(r["merchant_id"]) for r in rows), default=0)
    table.columns[-1].overflow = "fold"  # an instant cut short is none either
    return table


@merchants.command("disable")
@click.argument("merchant_id")
@click.option("--reason", callback=short_text, help="Why, kept in the audit trail.")
@operator_option
@json_option
def disable_merchant(
    merchant_id: str, reason: str | None, operator_name: str, as_json: bool
) -> None:
    """Refuse the merchant's API calls (403 forbidden) until it is enabled again; running
    servers notice within a minute. Its payments carry on: refunds by an operator,
    notifications, webhooks, settlement."""
    _set_active(merchant_id, active=False, as_json=as_json, operator=operator_name,
                reason=reason)


@merchants.command("enable")
@click.argument("merchant_id")
@click.option("--reason", callback=short_text, help="Why, kept in the audit trail.")
@operator_option
@json_option
def enable_merchant(
    merchant_id: str, reason: str | None, operator_name: str, as_json: bool
) -> None:
    """Let a disabled merchant's API calls in again (within a minute)."""
    _set_active(merchant_id, active=True, as_json=as_json, operator=operator_name, reason=reason)


def _set_active(
    merchant_id: str, *, active: bool, as_json: bool, operator: str, reason: str | None
) -> None:
    async def work(s: Services) -> dict[str, Any]:
        actor = await s.identify_operator.by_name(operator)
        merchant = await s.set_merchant_active(merchant_id, active=active, actor=actor,
                                               reason=reason)
        return {"merchant_id": merchant.merchant_id, "name": merchant.name,
                "active": merchant.active}

    title = "merchant enabled" if active else "merchant disabled"
    emit(run(work), as_json, lambda r: record_table(title, r))


@merchants.group("routing")
def routing() -> None:
    """A merchant's routing rules: which channels take a payment that names none."""


@routing.command("show")
@click.argument("merchant_id")
@json_option
def show_routing(merchant_id: str, as_json: bool) -> None:
    """The merchant's rules in order (none: PAYGATE_DEFAULT_ROUTE routes its payments)."""

    async def work(s: Services) -> dict[str, Any]:
        return routing_view(merchant_id, await s.get_routing(merchant_id))

    emit(run(work), as_json, _routing_table)


@routing.command("set")
@click.argument("merchant_id")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False),
              help="A JSON file: {\"rules\": [...]}, as the admin API takes.")
@click.option("--rules", "text", help="The same JSON, given inline.")
@operator_option
@json_option
def set_routing(
    merchant_id: str, path: str | None, text: str | None, operator_name: str, as_json: bool
) -> None:
    """Replace the merchant's rules, all checked first: a bad one changes nothing.

    The channels a rule names are checked against the channels THIS shell's settings make
    (sandbox, PAYGATE_STRIPE_API_KEY's stripe, PAYGATE_CHANNEL_URLS' names), not the serving
    gateway's, which the database does not know: run it with the deployment's settings
    (e.g. inside the gateway's pod or container). It says which channels it checked.
    """
    if (path is None) == (text is None):
        raise click.UsageError("give the rules with exactly one of --file or --rules")
    raw = Path(path).read_bytes() if path is not None else (text or "").encode()
    try:
        rules = msgspec.json.decode(raw, type=RoutingIn).to_rules()
    except msgspec.DecodeError as error:
        raise click.UsageError(f"the rules are not {{\"rules\": [...]}}: {error}") from None

    checked_against: list[str] = []

    async def work(s: Services) -> dict[str, Any]:
        checked_against.extend(s.set_routing.channels)
        actor = await s.identify_operator.by_name(operator_name)
        try:
            return routing_view(
                merchant_id, await s.set_routing(merchant_id, rules, actor=actor))
        except InvalidChannel as error:  # in the same line: which channels these were
            raise InvalidChannel(f"{error.message}; {_checked(checked_against)}") from None

    emit(run(work), as_json, _routing_table)
    say_note(_checked(checked_against))


def _checked(channels: list[str]) -> str:
    return (f"checked against this shell's channels: {', '.join(channels)} "
            "(PAYGATE_CHANNEL_URLS, PAYGATE_STRIPE_API_KEY, PAYGATE_CHANNEL_URL); the serving "
            "gateway must have them too: run this with the deployment's settings")


def _routing_table(view: dict[str, Any]) -> Any:
    rows = [
        (n, r["currency"] or "any",
         f"[{_bound(r['min_amount'], '0')}, {_bound(r['max_amount'], 'no limit')})",
         r["card_brand"] or "any", " > ".join(r["channels"]))
        for n, r in enumerate(view["rules"], 1)
    ]
    columns = ("#", "currency", "amount", "card_brand", "channels")
    return table_of(f"routing of {view['merchant_id']}", columns, rows)


def _bound(value: int | None, absent: str) -> str:
    return absent if value is None else str(value)


def _yesterday() -> date:
    return (datetime.now(UTC) - timedelta(days=1)).date()


@click.command()
@click.option("--merchant", "merchant_ids", multiple=True, help="Settle these (default: all).")
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="UTC day (default yesterday)."
)
@operator_option
@json_option
def settle(
    merchant_ids: tuple[str, ...], day: datetime | None, operator_name: str, as_json: bool
) -> None:
    """Settle merchants for one finished UTC day; running it again settles nothing new."""
    target = day.date() if day else _yesterday()

    async def work(s: Services) -> list[dict[str, Any]]:
        actor = await s.identify_operator.by_name(operator_name)
        actor.require(Action.SETTLEMENT_RUN)  # refused even when there is nobody to settle
        known = await s.list_merchant_ids()
        known_ids = set(known)
        # Each merchant once (twice in the output, a payout script would pay it twice), and
        # every one known before any is settled, so that a typo settles nothing.
        ids = list(dict.fromkeys(merchant_ids)) or known
        unknown = [merchant_id for merchant_id in ids if merchant_id not in known_ids]
        if unknown:
            raise NotFound(f"no merchant {', '.join(unknown)}; nothing was settled")
        done: list[dict[str, Any]] = []
        with Progress(console=errors, transient=True, disable=as_json) as progress:
            task = progress.add_task(f"settling {target}", total=len(ids))
            for merchant_id in ids:
                result = await s.process_settlement(
                    SettleCommand(merchant_id=merchant_id, day=target, actor=actor)
                )
                done += [settlement_view(s) for s in result]
                progress.advance(task)
        return done

    emit(
        run(work),
        as_json,
        lambda rows: table_of(
            f"settlements for {target}",
            SETTLEMENT_COLUMNS,
            ([r[k] for k in SETTLEMENT_COLUMNS] for r in rows),
        ),
    )


@click.group()
def webhooks() -> None:
    """Outgoing merchant webhooks: each event's deliveries, to endpoints and notify_urls."""


@webhooks.command("list")
@click.option("--merchant")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]))
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
def list_webhooks(merchant: str | None, status: str | None, limit: int, as_json: bool) -> None:
    async def work(s: Services) -> list[dict[str, Any]]:
        deliveries = await s.list_webhooks(merchant, status, limit)
        return [
            {
                "event_id": d.event_id,
                "delivery_id": d.delivery_id,
                "endpoint_id": d.endpoint_id,
                "type": d.type,
                "status": d.status.value,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at.isoformat(),
                "last_status_code": d.last_status_code,
                "last_error": d.last_error,
                "url": d.url,
            }
            for d in deliveries
        ]

    columns = ("event_id", "type", "status", "attempts", "next_attempt_at", "last_error")
    emit(
        run(work),
        as_json,
        lambda rows: table_of("webhooks", columns, ([r[k] for k in columns] for r in rows)),
    )


@webhooks.command("retry")
@click.argument("event_id")
@click.option("--reason", callback=short_text, help="Why, kept in the audit trail.")
@operator_option
@json_option
def retry_webhook(event_id: str, reason: str | None, operator_name: str, as_json: bool) -> None:
    """Deliver an event again as soon as the worker runs, to each of its destinations,
    even a dead delivery."""

    async def work(s: Services) -> dict[str, Any]:
        actor = await s.identify_operator.by_name(operator_name)
        deliveries = await s.retry_webhook(event_id, actor=actor, reason=reason)
        return {"event_id": event_id, "status": deliveries[0].status.value,
                "next_attempt_at": deliveries[0].next_attempt_at.isoformat(),
                "deliveries": len(deliveries)}

    queued = run(work)
    if as_json:
        emit(queued, as_json)
    else:
        say(f"{queued['event_id']} queued for delivery")
