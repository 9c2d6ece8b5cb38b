"""Outgoing merchant webhooks over HTTP, with the caller's trace context."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from opentelemetry.propagate import inject


class HttpWebhookSender:
    def __init__(self, timeout: float = 10.0, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        outgoing = dict(headers)
        inject(outgoing)
        response = await self._client.post(url, content=body, headers=outgoing)
        return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()
