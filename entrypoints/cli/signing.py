"""`paygate sign`: a signed request a newcomer can paste, so the HMAC scheme is never a puzzle."""

from __future__ import annotations

import re
import shlex
import time
from urllib.parse import quote

import click

from entrypoints.http.signature import signature

# RFC 3986: what a path and a query may hold as they are (unreserved, sub-delims, ':' '@',
# and '/' '?' in a query); '%' only as the start of an existing %XX.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"
_LONE_PERCENT = re.compile("%(?![0-9A-Fa-f]{2})")


def encoded_target(target: str) -> str:
    """`target` as a URL may carry it: each other character (non-ASCII as UTF-8, a space, a
    `#`) percent-encoded, a valid one and an existing %XX kept. curl sends this, so it is
    what is signed."""
    path, question, query = target.partition("?")
    if not query:  # a bare `?` never reaches the server, so it is neither sent nor signed
        question = ""

    def encode(part: str, safe: str) -> str:
        return quote(_LONE_PERCENT.sub("%25", part), safe=safe)

    return encode(path, _PATH_SAFE) + question + encode(query, _QUERY_SAFE)


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
    target = encoded_target(target)
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
    POST is accepted once (sign it again to send it again). TARGET may hold any character:
    what a URL cannot carry is percent-encoded (UTF-8), and that encoded target is signed.
    """
    if not target.startswith("/"):
        raise click.BadParameter("TARGET is a path such as /api/v1/payments", param_hint="TARGET")
    click.echo(curl_command(base_url, api_key, secret, method, target, body))
