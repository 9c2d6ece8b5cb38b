"""The remote order client and the wire format serve-order will decode."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.order.remote import (
    RemoteOrderClient,
    decode_order,
    decode_status,
    encode_created,
    status_path,
)
from adapters.resilience import Breakers, Policy, RemoteService
from application.errors import Unavailable
from application.ports.external import OrderRequest
from domain.errors import InvalidAmount
from domain.money import Money
from tests.unit.adapters.adapter_fakes import ManualClock

FAST = Policy(timeout=1.0, attempts=2, wait_initial=0.001, wait_max=0.001, wait_jitter=0)
ORDER = OrderRequest("mer_1", "ORDER/1 ü", "pay_1", Money(1_000, "JPY"), "tea", {"k": "v"})


class OrderService:
    """serve-order in miniature: decodes with the wire module, keeps orders in a dict."""

    def __init__(self, *faults: int) -> None:
        self.orders: dict[tuple[str, str], OrderRequest] = {}
        self.statuses: dict[str, str] = {}
        self.faults = list(faults)
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.raw_path.decode())
        if self.faults:
            return httpx.Response(self.faults.pop(0))
        if request.url.path == "/v1/orders":
            order = decode_order(request.content)
            self.orders[(order.merchant_id, order.order_no)] = order
            return httpx.Response(201, content=encode_created(f"ord_{len(self.orders)}"))
        self.statuses[request.url.raw_path.decode()] = decode_status(request.content)
        return httpx.Response(204)


def client(service: OrderService | httpx.MockTransport, clock: ManualClock) -> RemoteOrderClient:
    transport = (
        service if isinstance(service, httpx.MockTransport) else httpx.MockTransport(service)
    )
    breakers = Breakers(clock=clock)
    return RemoteOrderClient(
        RemoteService.open("order", "http://order.test", breakers, FAST, transport=transport)
    )


async def test_an_order_crosses_the_wire_whole(clock: ManualClock) -> None:
    service = OrderService()
    reference = await client(service, clock).create_order(ORDER)
    assert reference == "ord_1"
    assert service.orders[("mer_1", "ORDER/1 ü")] == ORDER


async def test_a_status_update_escapes_the_order_number(clock: ManualClock) -> None:
    service = OrderService()
    await client(service, clock).update_status("mer_1", "ORDER/1 ü", "succeeded")
    assert service.statuses == {status_path("mer_1", "ORDER/1 ü"): "succeeded"}
    assert service.paths == ["/v1/orders/mer_1/ORDER%2F1%20%C3%BC/status"]


async def test_a_failed_create_is_retried(clock: ManualClock) -> None:
    service = OrderService(503)
    assert await client(service, clock).create_order(ORDER) == "ord_1"
    assert len(service.paths) == 2


@pytest.mark.parametrize("faults", [(503, 503), (422,), (404,)])
async def test_no_usable_answer_raises_unavailable(
    clock: ManualClock, faults: tuple[int, ...]
) -> None:
    with pytest.raises(Unavailable):
        await client(OrderService(*faults), clock).create_order(ORDER)


async def test_a_nonsense_answer_raises_unavailable(clock: ManualClock) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"{}"))
    with pytest.raises(Unavailable):
        await client(transport, clock).create_order(ORDER)


async def test_connection_refused_raises_unavailable(clock: ManualClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(Unavailable):
        await client(httpx.MockTransport(refuse), clock).update_status("m", "o", "failed")


def test_the_server_side_refuses_a_bad_amount() -> None:
    body = json.dumps(
        {"merchant_id": "m", "order_no": "o", "payment_no": "p", "amount": 0, "currency": "USD"}
    ).encode()
    with pytest.raises(InvalidAmount):
        decode_order(body)


async def test_a_remote_order_book_refuses_to_join_a_transaction(clock: ManualClock) -> None:
    service = OrderService()
    remote = client(service, clock)
    assert remote.shares_database is False
    with pytest.raises(ValueError, match="transaction"):
        await remote.create_order(ORDER, within=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="transaction"):
        await remote.update_status("mer_1", "O", "failed", within=object())  # type: ignore[arg-type]
    assert service.paths == []
