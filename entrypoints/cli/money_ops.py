"""Operator commands on payments and refunds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import click

from application.commands import CreateRefundCommand, ReviewPaymentCommand
from application.pagination import decode_cursor, encode_cursor
from application.ports.storage import PaymentQuery, RefundQuery, StoredResponse
from application.views import payment_view, refund_view
from domain.payment import PaymentStatus
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

PAYMENT_COLUMNS = (
    "payment_no",
    "order_no",
    "amount",
    "currency",
    "status",
    "refunded_amount",
    "created_at",
)
REFUND_COLUMNS = ("refund_no", "payment_no", "amount", "currency", "status", "reason", "created_at")
CLI_SCOPE = "cli"


@click.group()
def payments() -> None:
    """Look at payments, decide the ones in manual review, capture or cancel them."""


@payments.command("list")
@click.option("--merchant", help="Only this merchant's payments.")
@click.option("--status", type=click.Choice([s.value for s in PaymentStatus]))
@click.option("--order-no")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--cursor")
@json_option
def list_payments(
    merchant: str | None,
    status: str | None,
    order_no: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    async def work(s: Services) -> dict[str, Any]:
        page = await s.list_payments(
            PaymentQuery(
                merchant_id=merchant,
                status=PaymentStatus(status) if status else None,
                order_no=order_no,
                limit=limit,
                cursor=decode_cursor(cursor),
            )
        )
        return {
            "data": [payment_view(p) for p in page.items],
            "next_cursor": encode_cursor(page.next_cursor),
        }

    result = run(work)
    emit(
        result,
        as_json,
        lambda r: table_of(
            "payments", PAYMENT_COLUMNS, ([p[k] for k in PAYMENT_COLUMNS] for p in r["data"])
        ),
    )
    if not as_json and result["next_cursor"]:
        say(f"more: --cursor {result['next_cursor']}")


@payments.command("show")
@click.argument("payment_no")
@json_option
def show_payment(payment_no: str, as_json: bool) -> None:
    async def work(s: Services) -> dict[str, Any]:
        return payment_view(await s.get_payment(payment_no))

    emit(run(work), as_json, lambda r: record_table(payment_no, r))


@payments.command("review")
@click.argument("payment_no")
@click.option("--approve", is_flag=True, help="Charge the payment.")
@click.option("--reject", is_flag=True, help="Reject the payment.")
@click.option(
    "--note", callback=short_text, help="Why; kept as the failure message on reject."
)
@operator_option
@json_option
def review_payment(
    payment_no: str, approve: bool, reject: bool, note: str | None, operator_name: str,
    as_json: bool,
) -> None:
    if approve == reject:  # neither, or both: never guess which one was meant
        raise click.UsageError("say --approve or --reject, exactly one")
    decision: Literal["approve", "reject"] = "approve" if approve else "reject"

    async def work(s: Services) -> dict[str, Any]:
        actor = await s.identify_operator.by_name(operator_name)
        return payment_view(
            await s.review_payment(
                ReviewPaymentCommand(payment_no=payment_no, decision=decision, note=note,
                                     actor=actor)
            )
        )

    emit(run(work), as_json, lambda r: record_table(payment_no, r))


@click.group()
def refunds() -> None:
    """The operator's refund flow: full or partial, with a reason."""


@refunds.command("create")
@click.argument("payment_no")
@click.option("--amount", type=int, help="Minor units (cents); omit to refund all that is left.")
@click.option("--reason", callback=short_text, help="Why, in at most 500 characters.")
@click.option("--idempotency-key", help="Run at most once for this key (safe to repeat).")
@operator_option
@json_option
def create_refund(
    payment_no: str,
    amount: int | None,
    reason: str | None,
    idempotency_key: str | None,
    operator_name: str,
    as_json: bool,
) -> None:
    async def work(s: Services) -> dict[str, Any]:
        command = CreateRefundCommand(
            payment_no=payment_no,
            merchant_id=None,
            amount=amount,
            reason=reason,
            request_key=None if idempotency_key is None else f"{CLI_SCOPE}:{idempotency_key}",
            actor=await s.identify_operator.by_name(operator_name),
        )

        async def refund() -> dict[str, Any]:
            return refund_view((await s.create_refund(command)).refund)

        if idempotency_key is None:
            return await refund()
        # JSON, so that no reason and the reason "None" (or a reason holding ':') differ
        fingerprint = json.dumps(["refund", payment_no, amount, reason])

        async def stored() -> StoredResponse:
            return StoredResponse(201, json.dumps(await refund()).encode())

        response, _ = await s.idempotency.run(
            CLI_SCOPE, idempotency_key, fingerprint, stored
        )
        return dict(json.loads(response.body))

    emit(run(work), as_json, lambda r: record_table("refund", r))


@refunds.command("list")
@click.option("--payment", "payment_no", help="Only the refunds of this payment.")
@click.option("--merchant", help="Only this merchant's refunds.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@json_option
def list_refunds(payment_no: str | None, merchant: str | None, limit: int, as_json: bool) -> None:
    async def work(s: Services) -> list[dict[str, Any]]:
        page = await s.list_refunds(
            RefundQuery(merchant_id=merchant, payment_no=payment_no, limit=limit)
        )
        return [refund_view(r) for r in page.items]

    emit(
        run(work),
        as_json,
        lambda rows: table_of(
            "refunds", REFUND_COLUMNS, ([r[k] for k in REFUND_COLUMNS] for r in rows)
        ),
    )


@refunds.command("show")
@click.argument("refund_no")
@json_option
def show_refund(refund_no: str, as_json: bool) -> None:
    async def work(s: Services) -> dict[str, Any]:
        return refund_view(await s.get_refund(refund_no))

    emit(run(work), as_json, lambda r: record_table(refund_no, r))
