"""`paygate sign`: a signed request a newcomer can paste, so the HMAC scheme is never a puzzle."""

from __future__ import annotations

import shlex
import time

import click

from entrypoints.http.auth import signature


def signed_headers(
    api_key: str, secret: str, method: str, target: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-API-Key": api_key,
        "X-Timestamp": stamp,
        "X-Signature": signature(secret.encode(), stamp, method.upper(), target, body),
    }


def curl_command(
    base_url: str, api_key: str, secret: str, method: str, target: str, body: str = ""
) -> str:
    headers = signed_headers(api_key, secret, method, target, body.encode())
    parts = ["curl", "-sS", "-X", method.upper(), base_url.rstrip("/") + target]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    if body:
        parts += ["-H", "Content-Type: application/json", "--data-raw", body]
    return shlex.join(parts)


@click.command()
@click.argument("method", type=click.Choice(["GET", "POST", "DELETE"], case_sensitive=False))
@click.argument("target")
@click.option("--key", "api_key", envvar="PAYGATE_API_KEY", required=True, help="X-API-Key.")
@click.option("--secret", envvar="PAYGATE_API_SECRET", required=True, help="The merchant secret.")
@click.option("--data", "body", default="", help="The exact JSON body to send.")
@click.option("--url", "base_url", default="http://127.0.0.1:8000", show_default=True)
def sign(method: str, target: str, api_key: str, secret: str, body: str, base_url: str) -> None:
    """Print a curl command for METHOD TARGET (e.g. POST /api/v1/payments), signed now.

    The signature covers the timestamp, so run the printed command within 5 minutes; a
    POST is accepted once (sign it again to send it again).
    """
    if not target.startswith("/"):
        raise click.BadParameter("TARGET is a path such as /api/v1/payments", param_hint="TARGET")
    click.echo(curl_command(base_url, api_key, secret, method, target, body))
