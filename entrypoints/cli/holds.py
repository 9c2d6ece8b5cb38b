"""`paygate payments capture|cancel`: an operator's capture or cancel of any payment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from application.commands import CancelPaymentCommand, CapturePaymentCommand
from application.views import payment_view
from entrypoints.cli.common import (
    emit,
    json_option,
    operator_option,
    record_table,
    run,
    short_text,
)

if TYPE_CHECKING:
    from entrypoints.composition import Services


@click.command("capture")
@click.argument("payment_no")
@click.option(
    "--amount", type=int, help="Minor units (cents) to capture; omit to capture all it holds."
)
@operator_option
@json_option
def capture_payment(payment_no: str, amount: int | None, operator_name: str, as_json: bool) -> None:
    """Capture a manual payment's authorization, once; what is not captured is released."""

    async def work(s: Services) -> dict[str, Any]:
        actor = await s.identify_operator.by_name(operator_name)
        command = CapturePaymentCommand(payment_no=payment_no, merchant_id=None, amount=amount,
                                        actor=actor)
        return payment_view(await s.capture_payment(command))

    emit(run(work), as_json, lambda r: record_table(payment_no, r))


@click.command("cancel")
@click.argument("payment_no")
@click.option("--reason", callback=short_text, help="Why, in at most 500 characters.")
@operator_option
@json_option
def cancel_payment(payment_no: str, reason: str | None, operator_name: str, as_json: bool) -> None:
    """Cancel a payment that captured nothing: void its authorization or end its review."""

    async def work(s: Services) -> dict[str, Any]:
        actor = await s.identify_operator.by_name(operator_name)
        command = CancelPaymentCommand(payment_no=payment_no, merchant_id=None, reason=reason,
                                       actor=actor)
        return payment_view(await s.cancel_payment(command))

    emit(run(work), as_json, lambda r: record_table(payment_no, r))
