"""`paygate quickstart`: the one command that needs no set-up, and the only one that makes
a master key."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import click
from rich.console import Console

from adapters.platform.vault import create_key_file
from entrypoints.cli.serving import host_option, port_option, prepare_database, serve_gateway
from entrypoints.cli.signing import curl_command
from entrypoints.settings import Settings

DEFAULT_KEY_FILE = "paygate.key"
console = Console()  # its own banner, with markup: nothing in it comes from a merchant


def quickstart_key(settings: Settings) -> Settings:
    """The quickstart's zero-setup key: `./paygate.key`, made on its first run, unless a key
    is configured. The only place paygate makes a key; every other command needs one."""
    if settings.master_key:
        console.print("master key: PAYGATE_MASTER_KEY", highlight=False)
        return settings
    if settings.master_key_file:
        console.print(f"master key: {settings.master_key_file} (PAYGATE_MASTER_KEY_FILE)",
                      highlight=False, soft_wrap=True)
        return settings
    path = Path(DEFAULT_KEY_FILE).resolve()
    made = not path.exists()
    create_key_file(path)
    os.environ["PAYGATE_MASTER_KEY_FILE"] = str(path)  # for the server this process becomes
    console.print(
        f"master key: {path} ({'created now' if made else 'kept from an earlier run'}); "
        "keep it with the database, and give it to every paygate command on this database "
        "as PAYGATE_MASTER_KEY_FILE",
        highlight=False, soft_wrap=True,
    )
    return settings.but(master_key_file=path)


@click.command()
@host_option
@port_option
def quickstart(host: str, port: int) -> None:
    """Create/upgrade the SQLite database, make a demo merchant if there is none, and serve."""
    from entrypoints.container import ensure_demo_merchant

    settings = quickstart_key(Settings.from_env())
    prepare_database(settings)
    created = asyncio.run(ensure_demo_merchant(settings))
    if created is not None:
        body = json.dumps(
            {
                "order_no": "ORDER-001",
                "amount": 10000,
                "currency": "USD",
                "channel": "sandbox",
                "payment_method": {
                    "type": "card",
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            },
            separators=(",", ":"),
        )
        console.print("[bold]demo merchant created; its secret is shown only now:[/bold]")
        console.print(json.dumps(created, indent=2), highlight=False)
        console.print("\na signed payment you can paste (valid for 5 minutes):")
        console.print(
            curl_command(
                f"http://{host}:{port}",
                created["api_key"],
                created["api_secret"],
                "POST",
                "/api/v1/payments",
                body,
            ),
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            "\nor sign your own: paygate sign POST /api/v1/payments --key ... "
            "--secret ... --data '...'\n"
        )
    serve_gateway(host, port, 1)
