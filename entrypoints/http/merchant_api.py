"""The merchant API under /api/v1: payments and refunds, signed with the merchant's key."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from application.commands import CreatePaymentCommand, CreateRefundCommand
from application.errors import ValidationFailed
from application.pagination import decode_cursor, encode_cursor
from application.ports.storage import PaymentQuery, RefundQuery
from application.views import payment_view, refund_view
from domain.authorization import CaptureMethod
from domain.card import CardDetails
from domain.errors import DomainError
from domain.operator import Actor
from domain.payment import PaymentStatus
from domain.references import check_reference
from entrypoints.http.auth import MerchantAuthenticator
from entrypoints.http.errors import ERROR_RESPONSES
from entrypoints.http.events_api import event_handlers
from entrypoints.http.holds import hold_handlers
from entrypoints.http.responses import json_response, run_post
from entrypoints.http.schemas import (
    CreatePaymentIn,
    CreateRefundIn,
    PaymentOut,
    PaymentPage,
    RefundOut,
    RefundPage,
)
from entrypoints.http.services import ApiServices
from entrypoints.http.strict import check_input

AnyRequest = Request[Any, Any, Any]


_RFC_3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})")


def timestamp_param(name: str, text: str | None) -> datetime | None:
    """An RFC 3339 instant with its offset, as UTC: `2026-11-23T00:00:00Z`."""
    if text is None:
        return None
    if not _RFC_3339.fullmatch(text):
        raise ValidationFailed(
            f"{name} must be an RFC 3339 timestamp with a timezone, e.g. 2026-11-23T00:00:00Z")
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError) as error:  # 2026-02-30; a year outside 1-9999 in UTC
        raise ValidationFailed(f"{name} is not a valid instant: {text}") from error


def _status(text: str | None) -> PaymentStatus | None:
    try:
        return None if text is None else PaymentStatus(text)
    except ValueError as error:
        raise ValidationFailed(
            f"status must be one of {[s.value for s in PaymentStatus]}"
        ) from error


def payment_command(merchant_id: str, data: CreatePaymentIn) -> CreatePaymentCommand:
    card, customer = data.payment_method, data.customer
    return CreatePaymentCommand(
        merchant_id=merchant_id,
        order_no=check_reference("order_no", data.order_no),
        amount=data.amount,
        currency=data.currency,
        channel=data.channel,
        card=CardDetails(card.number, card.exp_month, card.exp_year, card.cvc),
        customer_id=customer.id if customer else None,
        email=customer.email if customer else None,
        ip=customer.ip if customer else None,
        description=data.description,
        notify_url=data.notify_url,
        metadata=data.metadata,
        capture_method=CaptureMethod(data.capture_method),
    )


async def refund_response(
    request: AnyRequest,
    services: ApiServices,
    payment_no: str,
    data: CreateRefundIn | None,
    merchant_id: str | None,
    scope: str,
    actor: Actor | None = None,
) -> Response[Any]:
    """A refund, for a merchant (its own payments only) or an operator (`merchant_id=None`)."""
    body = data or CreateRefundIn()

    key = request.headers.get("idempotency-key")

    async def produce() -> dict[str, Any]:
        command = CreateRefundCommand(
            payment_no=payment_no,
            merchant_id=merchant_id,
            amount=body.amount,
            reason=body.reason,
            request_key=None if key is None else f"{scope}:{key}",
            actor=actor,
        )
        return refund_view((await services.use_cases.create_refund(command)).refund)

    return await run_post(request, services, scope, 201, produce)


def _the_merchant(request: AnyRequest) -> tuple[str | None, str, Actor | None]:
    merchant_id: str = request.state.merchant_id
    return merchant_id, merchant_id, None


def merchant_router(services: ApiServices) -> Router:
    @post(
        "/payments",
        status_code=201,
        summary="Create a payment",
        responses=ERROR_RESPONSES,
    )
    async def create_payment(
        request: AnyRequest, data: JSONBody[CreatePaymentIn]
    ) -> Response[PaymentOut]:
        merchant_id = request.state.merchant_id

        async def produce() -> dict[str, Any]:
            try:
                command = payment_command(merchant_id, data)
            except DomainError as error:  # the card: refused before the use case could run
                services.use_cases.payment_refused(data, error)
                raise
            return payment_view(await services.use_cases.create_payment(command))

        return await run_post(request, services, merchant_id, 201, produce)

    @get(
        "/payments/{payment_no:str}",
        summary="Retrieve a payment",
        responses=ERROR_RESPONSES,
    )
    async def get_payment(request: AnyRequest, payment_no: FromPath[str]) -> Response[PaymentOut]:
        payment = await services.use_cases.get_payment(payment_no, request.state.merchant_id)
        return json_response(payment_view(payment))

    @get(
        "/payments",
        summary="List payments, newest first",
        responses=ERROR_RESPONSES,
    )
    async def list_payments(
        request: AnyRequest,
        status: FromQuery[str | None] = None,
        order_no: FromQuery[str | None] = None,
        created_from: FromQuery[str | None] = None,
        created_to: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(description="1-100")] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> Response[PaymentPage]:
        page = await services.use_cases.list_payments(
            PaymentQuery(
                merchant_id=request.state.merchant_id,
                status=_status(status),
                order_no=order_no,
                created_from=timestamp_param("created_from", created_from),
                created_to=timestamp_param("created_to", created_to),
                limit=limit,
                cursor=decode_cursor(cursor),
            )
        )
        return json_response(
            {
                "data": [payment_view(p) for p in page.items],
                "next_cursor": encode_cursor(page.next_cursor),
            }
        )

    @post(
        "/payments/{payment_no:str}/refunds",
        status_code=201,
        summary="Refund a payment",
        responses=ERROR_RESPONSES,
    )
    async def create_refund(
        request: AnyRequest, payment_no: FromPath[str], data: JSONBody[CreateRefundIn | None] = None
    ) -> Response[RefundOut]:
        merchant_id = request.state.merchant_id
        return await refund_response(request, services, payment_no, data, merchant_id, merchant_id)

    @get(
        "/payments/{payment_no:str}/refunds",
        summary="List the refunds of a payment",
        responses=ERROR_RESPONSES,
    )
    async def list_payment_refunds(
        request: AnyRequest,
        payment_no: FromPath[str],
        limit: FromQuery[int] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> Response[RefundPage]:
        page = await services.use_cases.list_refunds(
            RefundQuery(
                merchant_id=request.state.merchant_id,
                payment_no=payment_no,
                limit=limit,
                cursor=decode_cursor(cursor),
            )
        )
        return json_response(
            {
                "data": [refund_view(r) for r in page.items],
                "next_cursor": encode_cursor(page.next_cursor),
            }
        )

    @get(
        "/refunds/{refund_no:str}",
        summary="Retrieve a refund",
        responses=ERROR_RESPONSES,
    )
    async def get_refund(request: AnyRequest, refund_no: FromPath[str]) -> Response[RefundOut]:
        return json_response(
            refund_view(await services.use_cases.get_refund(refund_no, request.state.merchant_id))
        )

    authenticate = MerchantAuthenticator(
        services.credentials, services.rate_limiter, replays=services.replays
    )

    async def authenticate_then_check_input(request: AnyRequest) -> None:
        # Not a guard: Litestar copies the route handler for every guard it calls (~9 µs for
        # a bare handler, 2.3 % of a payment's samples under py-spy; docs/benchmarks.md,
        # row 18). This router's hook replaces the application's, so it runs that one after
        # authenticating, as guards ran before it.
        await authenticate(request)
        await check_input(request)

    return Router(
        "/api/v1",
        before_request=authenticate_then_check_input,
        tags=["merchant"],
        route_handlers=[
            create_payment,
            get_payment,
            list_payments,
            create_refund,
            list_payment_refunds,
            get_refund,
            *event_handlers(services),
            *hold_handlers(services, _the_merchant),
        ],
        security=[{"merchantSignature": []}],
    )
