"""Signed merchant requests with extra headers, remembering every signature sent."""

from __future__ import annotations

from typing import Any

import httpx
from gateway_client import Gateway, Keys, encode

from entrypoints.cli.signing import signed_headers

SIGNATURES_SENT: list[str] = []
"""Every X-Signature this suite sent, so the secrets test can look for each of them."""


def send(
    api: Gateway,
    keys: Keys,
    method: str,
    target: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> httpx.Response:
    """Like `Gateway.call`, plus `headers`; `raw` sends bytes that are not JSON-encoded."""
    content = raw if raw is not None else (b"" if body is None else encode(body))
    signed = signed_headers(keys.api_key, keys.api_secret, method, target, content)
    SIGNATURES_SENT.append(signed["X-Signature"])
    if content:
        signed["Content-Type"] = "application/json"
    return api.http.request(
        method, target, content=content or None, headers={**signed, **(headers or {})}
    )
