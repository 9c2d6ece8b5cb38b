"""Merchant webhooks go to public addresses only, unless a deployment allows private ones.

A notify_url is whatever a merchant typed: pointed at 127.0.0.1, 10.x or the cloud's
metadata address 169.254.169.254, paygate would POST from inside the operator's network
(server-side request forgery). So the sender resolves the host itself, refuses any
address that is not public, and connects to the address it checked, sending the original
Host (and TLS server name), so a second DNS answer cannot swap the destination.
"""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from adapters.platform.webhooks import BlockedDestination, HttpWebhookSender, is_public, resolve

BODY, HEADERS = b'{"id":"evt_1"}', {"Content-Type": "application/json"}


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(204)


def sender(
    answers: dict[str, list[str]], *, allow_private: bool = False
) -> tuple[HttpWebhookSender, Recorder, list[tuple[str, int]]]:
    recorder, asked = Recorder(), []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return answers[host]

    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    webhooks = HttpWebhookSender(client=client, allow_private=allow_private, resolve=resolve)
    return webhooks, recorder, asked


@pytest.mark.parametrize("host", [
    "127.0.0.1", "10.0.0.5", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0",  # noqa: S104 (a destination, not a bind)
    "[::1]", "[fc00::1]", "[fe80::1]", "[::ffff:127.0.0.1]", "224.0.0.1",
])
async def test_a_private_address_in_the_url_is_refused_without_a_request(host: str) -> None:
    webhooks, recorder, asked = sender({})
    with pytest.raises(BlockedDestination, match="not a public address"):
        await webhooks.post(f"https://{host}/hooks", BODY, HEADERS)
    assert recorder.requests == []
    assert asked == []  # an address is not looked up


@pytest.mark.parametrize("addresses", [["10.0.0.7"], ["93.184.216.34", "127.0.0.1"]])
async def test_a_name_with_any_private_address_is_refused_without_a_request(
    addresses: list[str],
) -> None:
    webhooks, recorder, asked = sender({"hooks.merchant.example": addresses})
    with pytest.raises(BlockedDestination, match="PAYGATE_WEBHOOK_ALLOW_PRIVATE"):
        await webhooks.post("https://hooks.merchant.example/in", BODY, HEADERS)
    assert recorder.requests == []
    assert asked == [("hooks.merchant.example", 443)]


async def test_a_public_name_is_reached_at_the_address_that_was_checked() -> None:
    webhooks, recorder, asked = sender({"hooks.merchant.example": ["93.184.216.34"]})

    status = await webhooks.post("https://hooks.merchant.example:8443/in?x=1", BODY, HEADERS)

    [request] = recorder.requests
    assert status == 204
    assert asked == [("hooks.merchant.example", 8443)]
    assert str(request.url) == "https://93.184.216.34:8443/in?x=1"
    assert request.headers["host"] == "hooks.merchant.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.merchant.example"
    assert request.content == BODY
    assert request.headers["content-type"] == "application/json"


async def test_an_international_name_is_looked_up_and_sent_in_its_ascii_form() -> None:
    webhooks, recorder, asked = sender({"xn--fsqu00a.xn--55qx5d": ["2606:4700::1111"]})

    await webhooks.post("http://例子.公司/in", BODY, HEADERS)

    [request] = recorder.requests
    assert asked == [("xn--fsqu00a.xn--55qx5d", 80)]
    assert str(request.url) == "http://[2606:4700::1111]/in"
    assert request.headers["host"] == "xn--fsqu00a.xn--55qx5d"


async def test_a_public_address_in_the_url_is_used_as_it_is() -> None:
    webhooks, recorder, asked = sender({})
    await webhooks.post("https://93.184.216.34/in", BODY, HEADERS)
    assert [str(r.url) for r in recorder.requests] == ["https://93.184.216.34/in"]
    assert asked == []


async def test_a_deployment_that_allows_private_addresses_reaches_them() -> None:
    webhooks, recorder, _ = sender({"receiver.internal": ["10.0.0.7"]}, allow_private=True)

    await webhooks.post("http://127.0.0.1:9000/hooks", BODY, HEADERS)
    await webhooks.post("http://receiver.internal/hooks", BODY, HEADERS)

    assert [str(r.url) for r in recorder.requests] == [
        "http://127.0.0.1:9000/hooks", "http://10.0.0.7/hooks"]
    assert recorder.requests[1].headers["host"] == "receiver.internal"


async def test_a_name_that_resolves_to_nothing_is_not_sent() -> None:
    webhooks, recorder, _ = sender({"void.example": []})
    with pytest.raises(BlockedDestination, match="no address"):
        await webhooks.post("https://void.example/in", BODY, HEADERS)
    assert recorder.requests == []


async def test_an_address_that_cannot_be_reached_gives_way_to_the_next_one_checked() -> None:
    """A name with an IPv6 and an IPv4 address, from a host whose IPv6 goes nowhere: the
    IPv4 address is tried next, as a client connecting by name would."""
    tried: list[str] = []

    def transport(request: httpx.Request) -> httpx.Response:
        tried.append(str(request.url))
        if request.url.host == "2606:4700::1111":
            raise httpx.ConnectError("network is unreachable", request=request)
        return httpx.Response(200)

    async def resolve(host: str, port: int) -> list[str]:
        return ["2606:4700::1111", "93.184.216.34"]

    webhooks = HttpWebhookSender(
        client=httpx.AsyncClient(transport=httpx.MockTransport(transport)), resolve=resolve)

    assert await webhooks.post("https://hooks.merchant.example/in", BODY, HEADERS) == 200
    assert tried == ["https://[2606:4700::1111]/in", "https://93.184.216.34/in"]


async def test_when_no_address_can_be_reached_the_last_connection_error_is_raised() -> None:
    def transport(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused by {request.url.host}", request=request)

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "93.184.216.35"]

    webhooks = HttpWebhookSender(
        client=httpx.AsyncClient(transport=httpx.MockTransport(transport)), resolve=resolve)

    with pytest.raises(httpx.ConnectError, match=r"refused by 93\.184\.216\.35"):
        await webhooks.post("https://hooks.merchant.example/in", BODY, HEADERS)


async def test_the_system_resolver_answers_with_addresses_once_each() -> None:
    answers = await resolve("localhost", 80)
    assert answers
    assert len(answers) == len(set(answers))
    assert all(not is_public(ipaddress.ip_address(answer)) for answer in answers)
