"""`OrderPort` over HTTP, and the wire format the remote order service shares with it.

    POST /v1/orders                                  OrderBody         -> 200/201 OrderCreated
    POST /v1/orders/{merchant_id}/{order_no}/status  StatusBody        -> 200/204
    anything malformed                                                 -> 422

Both calls are idempotent (creating an order twice is a no-op, setting a status twice
leaves it set), so the client retries them. `serve-order` decodes with `decode_order` /
`decode_status` and answers with `encode_created`, all from this module.
"""

from __future__ import annotations

from urllib.parse import quote

import msgspec

from adapters.resilience import RemoteService
from application.ports.external import OrderRequest
from application.ports.storage import UnitOfWork
from domain.money import Money

ORDERS_PATH = "/v1/orders"
_ANSWERED = frozenset({200, 201, 204})


class OrderBody(msgspec.Struct, frozen=True, kw_only=True):
    merchant_id: str
    order_no: str
    payment_no: str
    amount: int
    currency: str
    description: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class OrderCreated(msgspec.Struct, frozen=True):
    reference: str


class StatusBody(msgspec.Struct, frozen=True):
    status: str


def status_path(merchant_id: str, order_no: str) -> str:
    """Both segments are escaped: an order_no is the merchant's free text."""
    return f"{ORDERS_PATH}/{quote(merchant_id, safe='')}/{quote(order_no, safe='')}/status"


def encode_order(request: OrderRequest) -> bytes:
    return msgspec.json.encode(
        OrderBody(
            merchant_id=request.merchant_id,
            order_no=request.order_no,
            payment_no=request.payment_no,
            amount=request.amount.amount,
            currency=request.amount.currency,
            description=request.description,
            metadata=dict(request.metadata),
        )
    )


def decode_order(body: bytes) -> OrderRequest:
    """Raises `msgspec.DecodeError` or a `DomainError` (bad amount) -> 422."""
    order = msgspec.json.decode(body, type=OrderBody)
    amount = Money.positive(order.amount, order.currency)
    return OrderRequest(
        order.merchant_id,
        order.order_no,
        order.payment_no,
        amount,
        order.description,
        dict(order.metadata),
    )


def decode_status(body: bytes) -> str:
    return msgspec.json.decode(body, type=StatusBody).status


def encode_created(reference: str) -> bytes:
    return msgspec.json.encode(OrderCreated(reference))


def decode_created(body: bytes) -> str:
    return msgspec.json.decode(body, type=OrderCreated).reference


def _nothing(_: bytes) -> None:
    return None


def _refuse_transaction(within: UnitOfWork | None) -> None:
    if within is not None:
        raise ValueError("a remote order service cannot join a database transaction")


class RemoteOrderClient:
    """Raises `Unavailable` whenever the order service gives no usable answer."""

    shares_database = False

    def __init__(self, service: RemoteService) -> None:
        self._service = service

    async def aclose(self) -> None:
        await self._service.aclose()

    async def create_order(self, request: OrderRequest, within: UnitOfWork | None = None) -> str:
        _refuse_transaction(within)
        return await self._service.exchange(
            ORDERS_PATH, encode_order(request), decode_created, ok=_ANSWERED
        )

    async def update_status(
        self, merchant_id: str, order_no: str, status: str, within: UnitOfWork | None = None
    ) -> None:
        _refuse_transaction(within)
        body = msgspec.json.encode(StatusBody(status))
        await self._service.exchange(
            status_path(merchant_id, order_no), body, _nothing, ok=_ANSWERED
        )
