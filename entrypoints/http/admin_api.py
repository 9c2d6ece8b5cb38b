"""The admin API under /admin/v1, behind an operator's bearer token.

Each route's least role is a line of `entrypoints/http/roles.py`; the guard there names
the operator, whom every handler hands to its use case (checked again, and audited).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from application.commands import (
    CreateMerchantCommand,
    ReviewPaymentCommand,
    SettleCommand,
)
from application.errors import ValidationFailed
from application.pagination import decode_cursor, encode_cursor
from application.ports.storage import AuditQuery
from application.views import audit_view, payment_view, routing_view, settlement_view
from domain.operator import BOOTSTRAP, Actor
from entrypoints.http.errors import ERROR_RESPONSES
from entrypoints.http.holds import hold_handlers
from entrypoints.http.merchant_api import refund_response, timestamp_param
from entrypoints.http.responses import json_response, run_post
from entrypoints.http.roles import OperatorGuard, operator_of
from entrypoints.http.schemas import (
    AuditPage,
    CreateMerchantIn,
    CreateRefundIn,
    MerchantCreatedOut,
    PaymentOut,
    RefundOut,
    ReviewIn,
    RoutingIn,
    RoutingOut,
    SettleIn,
    SettlementList,
)
from entrypoints.http.services import ApiServices

AnyRequest = Request[Any, Any, Any]
ADMIN_SCOPE = "admin"


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValidationFailed(f"date {text!r} is not a calendar date (YYYY-MM-DD)") from error


def idempotency_scope(actor: Actor) -> str:
    """Idempotency keys are each operator's own; the bootstrap admin keeps the old scope."""
    return ADMIN_SCOPE if actor.name == BOOTSTRAP else f"{ADMIN_SCOPE}:{actor.name}"


def _an_operator(request: AnyRequest) -> tuple[str | None, str, Actor | None]:
    actor = operator_of(request)
    return None, idempotency_scope(actor), actor


def admin_router(services: ApiServices) -> Router:
    @post(
        "/merchants",
        status_code=201,
        summary="Create a merchant; its secrets are shown once",
        responses=ERROR_RESPONSES,
    )
    async def create_merchant(
        request: AnyRequest, data: JSONBody[CreateMerchantIn]
    ) -> Response[MerchantCreatedOut]:
        actor = operator_of(request)

        async def produce() -> dict[str, Any]:
            new = await services.use_cases.create_merchant(
                CreateMerchantCommand(
                    name=data.name, fee_basis_points=data.fee_basis_points,
                    fee_fixed=data.fee_fixed, actor=actor,
                )
            )
            return {
                "merchant_id": new.merchant.merchant_id,
                "api_key": new.merchant.api_key,
                "api_secret": new.api_secret,
                "webhook_secret": new.webhook_secret,
            }

        # the answer holds the merchant's secrets: a replay is kept sealed, never in plain text
        return await run_post(
            request, services, idempotency_scope(actor), 201, produce, sealed=True)

    @post(
        "/payments/{payment_no:str}/review",
        status_code=200,
        summary="Approve or reject a payment in review",
        responses=ERROR_RESPONSES,
    )
    async def review(
        request: AnyRequest, payment_no: FromPath[str], data: JSONBody[ReviewIn]
    ) -> Response[PaymentOut]:
        actor = operator_of(request)

        async def produce() -> dict[str, Any]:
            return payment_view(
                await services.use_cases.review_payment(
                    ReviewPaymentCommand(
                        payment_no=payment_no, decision=data.decision, note=data.note,
                        actor=actor,
                    )
                )
            )

        return await run_post(request, services, idempotency_scope(actor), 200, produce)

    @post(
        "/payments/{payment_no:str}/refunds",
        status_code=201,
        summary="Refund any merchant's payment",
        responses=ERROR_RESPONSES,
    )
    async def refund(
        request: AnyRequest, payment_no: FromPath[str], data: JSONBody[CreateRefundIn | None] = None
    ) -> Response[RefundOut]:
        actor = operator_of(request)
        return await refund_response(
            request, services, payment_no, data, None, idempotency_scope(actor), actor)

    @post(
        "/settlements",
        status_code=200,
        summary="Settle a merchant's finished UTC day",
        responses=ERROR_RESPONSES,
    )
    async def settle(request: AnyRequest, data: JSONBody[SettleIn]) -> Response[SettlementList]:
        actor = operator_of(request)

        async def produce() -> dict[str, Any]:
            done = await services.use_cases.process_settlement(
                SettleCommand(merchant_id=data.merchant_id, day=parse_day(data.date), actor=actor)
            )
            return {"data": [settlement_view(s) for s in done]}

        return await run_post(request, services, idempotency_scope(actor), 200, produce)

    @get(
        "/merchants/{merchant_id:str}/routing",
        summary="A merchant's routing rules, in order",
        responses=ERROR_RESPONSES,
    )
    async def get_routing(merchant_id: FromPath[str]) -> Response[RoutingOut]:
        rules = await services.use_cases.get_routing(merchant_id)
        return json_response(routing_view(merchant_id, rules))

    @put(
        "/merchants/{merchant_id:str}/routing",
        status_code=200,
        summary="Replace a merchant's routing rules (all checked, or none kept)",
        responses=ERROR_RESPONSES,
    )
    async def set_routing(
        request: Request[Any, Any, Any], merchant_id: FromPath[str], data: JSONBody[RoutingIn]
    ) -> Response[RoutingOut]:
        kept = await services.use_cases.set_routing(merchant_id, data.to_rules(),
                                                     actor=operator_of(request))
        return json_response(routing_view(merchant_id, kept))

    @get(
        "/settlements",
        summary="List settlements",
        responses=ERROR_RESPONSES,
    )
    async def list_settlements(
        merchant_id: FromQuery[str | None] = None, date: FromQuery[str | None] = None
    ) -> Response[SettlementList]:
        found = await services.use_cases.list_settlements(
            merchant_id, parse_day(date) if date else None
        )
        return json_response({"data": [settlement_view(s) for s in found]})

    @get(
        "/audit",
        summary="The audit trail: operator actions, newest first",
        responses=ERROR_RESPONSES,
    )
    async def list_audit(
        actor: FromQuery[str | None] = None,
        object_: Annotated[str | None, QueryParameter(name="object")] = None,
        from_: Annotated[str | None, QueryParameter(name="from")] = None,
        to: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(description="1-100")] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> Response[AuditPage]:
        page = await services.use_cases.list_audit(AuditQuery(
            actor=actor, object_id=object_, created_from=timestamp_param("from", from_),
            created_to=timestamp_param("to", to), limit=limit, cursor=decode_cursor(cursor)))
        return json_response({"data": [audit_view(e) for e in page.items],
                              "next_cursor": encode_cursor(page.next_cursor)})

    return Router(
        "/admin/v1",
        guards=[OperatorGuard(services.admin_token, services.use_cases.identify_operator.by_token)],
        tags=["admin"],
        route_handlers=[
            create_merchant,
            review,
            refund,
            *hold_handlers(services, _an_operator),
            settle,
            list_settlements,
            list_audit,
            get_routing,
            set_routing,
        ],
        security=[{"adminToken": []}],
    )
