"""Capture and cancel a payment: the same two routes on the merchant and the admin API.

A merchant acts on its own payments only (another's is 404), an operator on any. Both
take `Idempotency-Key` like every POST, scoped to who is asking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody

from application.commands import CancelPaymentCommand, CapturePaymentCommand
from application.views import payment_view
from domain.operator import Actor
from entrypoints.http.errors import ERROR_RESPONSES
from entrypoints.http.responses import run_post
from entrypoints.http.schemas import CancelIn, CaptureIn, PaymentOut
from entrypoints.http.services import ApiServices

AnyRequest = Request[Any, Any, Any]
Asker = Callable[[AnyRequest], tuple[str | None, str, Actor | None]]
"""Who asks: (the merchant whose payments it may touch, None for any; its idempotency
scope; the operator, None for a merchant)."""


def hold_handlers(services: ApiServices, asker: Asker) -> list[HTTPRouteHandler]:
    @post(
        "/payments/{payment_no:str}/capture",
        status_code=200,
        summary="Capture a manual payment's authorization, all of it or less (once)",
        responses=ERROR_RESPONSES,
    )
    async def capture_payment(
        request: AnyRequest, payment_no: FromPath[str], data: JSONBody[CaptureIn | None] = None
    ) -> Response[PaymentOut]:
        merchant_id, scope, operator = asker(request)
        amount = (data or CaptureIn()).amount_to_capture

        async def produce() -> dict[str, Any]:
            command = CapturePaymentCommand(
                payment_no=payment_no, merchant_id=merchant_id, amount=amount, actor=operator
            )
            return payment_view(await services.use_cases.capture_payment(command))

        return await run_post(request, services, scope, 200, produce)

    @post(
        "/payments/{payment_no:str}/cancel",
        status_code=200,
        summary="Cancel a payment that captured nothing: void its authorization, end its review",
        responses=ERROR_RESPONSES,
    )
    async def cancel_payment(
        request: AnyRequest, payment_no: FromPath[str], data: JSONBody[CancelIn | None] = None
    ) -> Response[PaymentOut]:
        merchant_id, scope, operator = asker(request)
        reason = (data or CancelIn()).reason

        async def produce() -> dict[str, Any]:
            command = CancelPaymentCommand(
                payment_no=payment_no, merchant_id=merchant_id, reason=reason, actor=operator
            )
            return payment_view(await services.use_cases.cancel_payment(command))

        return await run_post(request, services, scope, 200, produce)

    return [capture_payment, cancel_payment]
