"""`paygate`: serve the gateway and operate it."""

from __future__ import annotations

import click

from entrypoints.cli.common import say_error, speak_json
from entrypoints.cli.holds import cancel_payment, capture_payment
from entrypoints.cli.keys import keys
from entrypoints.cli.money_ops import payments, refunds
from entrypoints.cli.operators import audit, operators
from entrypoints.cli.ops import db, merchants, settle, webhooks
from entrypoints.cli.quickstart import quickstart
from entrypoints.cli.reconciling import reconcile
from entrypoints.cli.services import serve_channel, serve_order, serve_risk
from entrypoints.cli.serving import serve, worker
from entrypoints.cli.signing import sign
from entrypoints.settings import ConfigurationError


class PaygateGroup(click.Group):
    """Every command reads its settings first: one it cannot use is a usage error, named
    in one line (exit 2), never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        speak_json(False)  # a server command says so first thing
        try:
            return super().invoke(ctx)
        except ConfigurationError as error:
            say_error("configuration", str(error))
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
    keys,
    merchants,
    payments,
    refunds,
    settle,
    reconcile,
    webhooks,
    sign,
    operators,
    audit,
):
    cli.add_command(command)
payments.add_command(capture_payment)
payments.add_command(cancel_payment)


def main() -> None:
    cli()
