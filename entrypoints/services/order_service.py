"""`paygate serve-order`: the order book over HTTP, on its own database."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, post

from adapters.order.remote import ORDERS_PATH, decode_order, decode_status, encode_created
from application.ports.external import OrderPort
from entrypoints.readiness import ReadinessCheck
from entrypoints.services.common import error, json_bytes, service_app


def order_app(
    orders: OrderPort,
    metrics_route: Any = None,
    on_shutdown: Sequence[Callable[[], Any]] = (),
    *,
    token: str | None = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
) -> Litestar:
    @post(ORDERS_PATH, status_code=200)
    async def create(request: Request[Any, Any, Any]) -> Response[bytes]:
        try:
            order = decode_order(await request.body())
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            return error(422, str(exc))
        return json_bytes(encode_created(await orders.create_order(order)))

    @post(ORDERS_PATH + "/{merchant_id:str}/{order_no:str}/status", status_code=200)
    async def status(
        request: Request[Any, Any, Any], merchant_id: str, order_no: str
    ) -> Response[bytes]:
        try:
            new_status = decode_status(await request.body())
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            return error(422, str(exc))
        await orders.update_status(merchant_id, order_no, new_status)
        return json_bytes(b'{"ok":true}')

    return service_app(
        [create, status], metrics_route=metrics_route, on_shutdown=on_shutdown, token=token,
        readiness=readiness,
    )
