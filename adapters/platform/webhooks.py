"""Outgoing merchant webhooks over HTTP, with the caller's trace context, to public
addresses only unless the deployment allows private ones.

A notify_url is whatever a merchant typed. Pointed at 127.0.0.1, 10.0.0.0/8 or the cloud's
metadata address 169.254.169.254, it would make paygate POST from inside the operator's
network (server-side request forgery). So the host is resolved here, every address it
resolves to must be public, and the request goes to the address that was checked, with
the original `Host` header and TLS server name: a second DNS answer (rebinding) cannot
swap the destination between the check and the connection. Redirects are not followed.

Each delivery is a client span, `WebhookDelivery`, in the trace that wrote the event (its
stored `traceparent`), so the merchant's side of a payment joins that payment's trace
however much later, and from whichever worker, the event goes out.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

Resolver = Callable[[str, int], Awaitable[list[str]]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_DEFAULT_PORTS = {"http": 80, "https": 443}
RESOLVE_TIMEOUT = 5.0  # seconds a registration waits for its URL's host to resolve


class BlockedDestination(Exception):
    """The webhook's host is, or resolves to, an address paygate may not send to."""


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, as the system's resolver answers."""
    answers = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)  # families it has
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


def is_public(address: Address) -> bool:
    """Routable on the internet: not loopback, private, shared, link-local, multicast,
    reserved or unspecified (an IPv4 address seen through IPv6 is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's roots, or SSL_CERT_FILE/SSL_CERT_DIR), read
    once per process: loading the roots takes tens of milliseconds, and every container
    makes a sender whether or not it ever delivers. One context serves many clients."""
    return httpx.create_ssl_context()


class HttpWebhookSender:
    def __init__(
        self, timeout: float = 10.0, client: httpx.AsyncClient | None = None, *,
        allow_private: bool = False, resolve: Resolver = resolve, tracer: Tracer | None = None,
    ) -> None:
        self._client = client or httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, verify=tls_context())
        self._allow_private, self._resolve = allow_private, resolve
        self._tracer = tracer or trace.get_tracer("paygate.webhooks")

    async def refusal(self, url: str) -> str | None:
        """Why `url` may not be a webhook endpoint, checked as a delivery checks it; None
        when it may. Its host is looked up now: a name with no address is refused too."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return "is not a URL"
        schemes = ("https", "http") if self._allow_private else ("https",)
        if target.scheme not in schemes:
            if self._allow_private:
                return "must be an https:// (or, with private addresses allowed, http://) URL"
            return "must be an https:// URL"
        if not target.host:
            return "has no host"
        try:
            await asyncio.wait_for(self._destinations(target, {}), RESOLVE_TIMEOUT)
        except BlockedDestination as refused:
            return str(refused)
        except TimeoutError:
            return f"{target.host} did not resolve within {RESOLVE_TIMEOUT:.0f} s"
        except OSError:
            return f"{target.host} does not resolve to an address"
        return None

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        traceparent: str | None = None,
        *,
        endpoint: str | None = None,
    ) -> int:
        parent = extract({"traceparent": traceparent}) if traceparent else None
        target = httpx.URL(url)
        attributes: dict[str, str] = {"http.request.method": "POST", "server.address": target.host}
        if endpoint is not None:
            attributes["paygate.webhook_endpoint"] = endpoint
        with self._tracer.start_as_current_span(
            "WebhookDelivery", context=parent, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            status = await self._post(target, body, headers)
            span.set_attribute("http.response.status_code", status)
            if not 200 <= status < 300:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
            return status

    async def _post(self, url: httpx.URL, body: bytes, headers: Mapping[str, str]) -> int:
        outgoing = dict(headers)
        inject(outgoing)
        targets, extensions = await self._destinations(url, outgoing)
        for target in targets[:-1]:  # the next checked address when one cannot be reached
            try:
                return await self._send(target, body, outgoing, extensions)
            except httpx.ConnectError:
                continue
        return await self._send(targets[-1], body, outgoing, extensions)

    async def _send(
        self, url: httpx.URL, body: bytes, headers: dict[str, str], extensions: dict[str, Any]
    ) -> int:
        response = await self._client.post(
            url, content=body, headers=headers, extensions=extensions)
        return response.status_code

    async def _destinations(
        self, url: httpx.URL, headers: dict[str, str]
    ) -> tuple[list[httpx.URL], dict[str, Any]]:
        """The URLs to try, by checked address, and the request extensions; the original
        host goes into `headers`."""
        literal = _address(url.host)
        if literal is not None:  # an address already: nothing to look up
            self._check([literal])
            return [url], {}
        name = url.raw_host.decode("ascii")
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 443)
        addresses = [ipaddress.ip_address(text) for text in await self._resolve(name, port)]
        if not addresses:
            raise BlockedDestination(f"{name} resolves to no address")
        self._check(addresses, name)
        headers["Host"] = url.netloc.decode("ascii")
        extensions = {"sni_hostname": name} if url.scheme == "https" else {}
        return [url.copy_with(host=str(address)) for address in addresses], extensions

    def _check(self, addresses: list[Address], name: str | None = None) -> None:
        """Every address public (or private ones allowed); `name` is what resolved to them."""
        if self._allow_private:
            return
        for address in addresses:
            if not is_public(address):
                where = f"{name} resolves to {address}" if name else str(address)
                raise BlockedDestination(
                    f"{where}, which is not a public address: webhooks go to public addresses "
                    "only, unless PAYGATE_WEBHOOK_ALLOW_PRIVATE=on")

    async def aclose(self) -> None:
        await self._client.aclose()
