"""A webhook endpoint is checked when it is registered, as every destination is checked
when it is sent to: https, and a host that resolves to public addresses only (unless the
deployment allows private ones, for a receiver on one's own machine)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from adapters.platform.webhooks import HttpWebhookSender


def destinations(
    answers: dict[str, list[str]], *, allow_private: bool = False
) -> HttpWebhookSender:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    return HttpWebhookSender(allow_private=allow_private, resolve=resolve)


async def test_an_https_url_of_a_public_host_is_a_destination() -> None:
    checked = destinations({"hooks.merchant.example": ["93.184.216.34"]})
    assert await checked.refusal("https://hooks.merchant.example/in") is None
    assert await checked.refusal("https://93.184.216.34:8443/in") is None


@pytest.mark.parametrize("url", ["http://hooks.merchant.example/in", "ftp://x.example/"])
async def test_a_url_that_is_not_https_is_refused(url: str) -> None:
    checked = destinations({"hooks.merchant.example": ["93.184.216.34"]})
    assert await checked.refusal(url) == "must be an https:// URL"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.5/in", "10.0.0.5, which is not a public address"),
        ("https://inside.example/in", "inside.example resolves to 127.0.0.1, which is not"),
    ],
)
async def test_a_url_of_a_private_address_is_refused(url: str, reason: str) -> None:
    checked = destinations({"inside.example": ["127.0.0.1"]})
    refusal = await checked.refusal(url)
    assert refusal is not None
    assert refusal.startswith(reason)


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    refusal = await destinations({}).refusal("https://nowhere.example/in")
    assert refusal == "nowhere.example does not resolve to an address"


async def test_a_url_without_a_host_is_refused() -> None:
    assert await destinations({}).refusal("https:///in") == "has no host"


async def test_allowing_private_addresses_allows_a_local_http_receiver() -> None:
    checked = destinations({"receiver.internal": ["10.0.0.7"]}, allow_private=True)
    assert await checked.refusal("http://127.0.0.1:9000/hooks") is None
    assert await checked.refusal("http://receiver.internal/hooks") is None
    assert await checked.refusal("ftp://receiver.internal/hooks") == (
        "must be an https:// (or, with private addresses allowed, http://) URL")


async def test_a_host_that_takes_too_long_to_resolve_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(10)
        return ["93.184.216.34"]

    monkeypatch.setattr("adapters.platform.webhooks.RESOLVE_TIMEOUT", 0.01)
    checked = HttpWebhookSender(resolve=slow)
    assert await checked.refusal("https://slow.example/in") == (
        "slow.example did not resolve within 0 s")
