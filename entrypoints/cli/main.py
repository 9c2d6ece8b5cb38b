"""`paygate`: serve the gateway and operate it."""

from __future__ import annotations

import click

from entrypoints.cli.money_ops import payments, refunds
from entrypoints.cli.ops import db, merchants, reconcile, settle, webhooks
from entrypoints.cli.services import serve_channel, serve_order, serve_risk
from entrypoints.cli.serving import quickstart, serve, worker
from entrypoints.cli.signing import sign


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli()
