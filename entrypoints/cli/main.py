"""`paygate`: serve the gateway and operate it."""

from __future__ import annotations

import click

from entrypoints.cli.common import errors
from entrypoints.cli.holds import cancel_payment, capture_payment
from entrypoints.cli.money_ops import payments, refunds
from entrypoints.cli.ops import db, merchants, reconcile, settle, webhooks
from entrypoints.cli.services import serve_channel, serve_order, serve_risk
from entrypoints.cli.serving import quickstart, serve, worker
from entrypoints.cli.signing import sign
from entrypoints.settings import ConfigurationError


class PaygateGroup(click.Group):
    """Every command reads its settings first: one it cannot use is a usage error, named
    in one line (exit 2), never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigurationError as error:
            errors.print(f"[red]error[/red] (configuration): {error}", highlight=False,
                         soft_wrap=True)
            ctx.exit(2)


@click.group(cls=PaygateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="paygate")
def cli() -> None:
    """paygate: payments, refunds and settlement behind an HTTP API."""


for command in (
    serve,
    serve_risk,
    serve_order,
    serve_channel,
    worker,
    quickstart,
    db,
    merchants,
    payments,
    refunds,
    settle,
    reconcile,
    webhooks,
    sign,
):
    cli.add_command(command)
payments.add_command(capture_payment)
payments.add_command(cancel_payment)


def main() -> None:
    cli()
