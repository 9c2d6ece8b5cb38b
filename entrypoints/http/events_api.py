"""The merchant's event feed and webhook endpoints, under /api/v1 with the merchant's
signature (the routes join the merchant router, so they are authenticated as it is).

    GET  /events?after=&type=&limit=         the feed, in sequence order
    GET  /events/{event_id}                  one event
    GET  /events/{event_id}/deliveries       where it went: attempts, status codes, next try
    POST /events/{event_id}/redeliver        the same event again, signed afresh
    POST /webhook_endpoints                  an endpoint, and its secret (shown once)
    GET  /webhook_endpoints[/{endpoint_id}]  the merchant's endpoints, or one
    DELETE /webhook_endpoints/{endpoint_id}
    POST /webhook_endpoints/{endpoint_id}/rotate_secret
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody

from application.ports.events import DeliveryStatus, Event, EventQuery, WebhookDelivery
from application.use_cases.create_webhook_endpoint import CreateEndpointCommand, NewSecret
from domain.timestamps import rfc3339
from domain.webhook_endpoint import WebhookEndpoint
from entrypoints.http.errors import ERROR_RESPONSES
from entrypoints.http.event_schemas import (
    CreateEndpointIn,
    DeletedOut,
    DeliveryList,
    EndpointCreatedOut,
    EndpointList,
    EndpointOut,
    EventOut,
    EventPage,
    RedeliverIn,
)
from entrypoints.http.responses import json_response, run_post
from entrypoints.http.services import ApiServices

AnyRequest = Request[Any, Any, Any]


def _at(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


def event_out(event: Event) -> msgspec.Raw:
    """The stored body, byte for byte what the webhooks carry."""
    return msgspec.Raw(event.body.encode())


def delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.delivery_id,
        "event_id": d.event_id,
        "endpoint_id": d.endpoint_id,
        "url": d.url,
        "status": d.status.value,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "next_attempt_at": _at(d.next_attempt_at) if d.status is DeliveryStatus.PENDING else None,
        "delivered_at": _at(d.delivered_at),
        "created_at": rfc3339(d.created_at),
    }


def endpoint_out(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": e.endpoint_id,
        "url": e.url,
        "events": e.subscription.names,
        "created_at": rfc3339(e.created_at),
        "previous_secret_expires_at": _at(e.previous_expires_at),
    }


def with_secret(new: NewSecret) -> dict[str, Any]:
    return {**endpoint_out(new.endpoint), "secret": new.secret}


def event_handlers(services: ApiServices) -> list[HTTPRouteHandler]:
    """The event feed's and the webhook endpoints' routes."""
    uc = services.use_cases

    @get("/events", summary="The event feed, in sequence order", responses=ERROR_RESPONSES)
    async def list_events(
        request: AnyRequest,
        after: FromQuery[int] = 0,
        type: FromQuery[str | None] = None,
        limit: FromQuery[int] = 20,
    ) -> Response[EventPage]:
        query = EventQuery(request.state.merchant_id, after=after, type=type, limit=limit)
        page = await uc.list_events(query)
        return json_response({
            "data": [event_out(e) for e in page.events],
            "next_after": page.next_after,
            "has_more": page.has_more,
        })

    @get("/events/{event_id:str}", summary="Retrieve an event", responses=ERROR_RESPONSES)
    async def get_event(request: AnyRequest, event_id: FromPath[str]) -> Response[EventOut]:
        return json_response(event_out(await uc.get_event(event_id, request.state.merchant_id)))

    @get("/events/{event_id:str}/deliveries", summary="An event's webhook deliveries",
         responses=ERROR_RESPONSES)
    async def list_deliveries(
        request: AnyRequest, event_id: FromPath[str]
    ) -> Response[DeliveryList]:
        deliveries = await uc.list_event_deliveries(event_id, request.state.merchant_id)
        return json_response({"data": [delivery_out(d) for d in deliveries]})

    @post("/events/{event_id:str}/redeliver", status_code=202,
          summary="Send an event again, signed afresh", responses=ERROR_RESPONSES)
    async def redeliver(
        request: AnyRequest, event_id: FromPath[str], data: JSONBody[RedeliverIn | None] = None
    ) -> Response[DeliveryList]:
        merchant_id = request.state.merchant_id
        endpoint_id = data.endpoint_id if data else None

        async def produce() -> dict[str, Any]:
            deliveries = await uc.redeliver_event(event_id, merchant_id, endpoint_id)
            return {"data": [delivery_out(d) for d in deliveries]}

        return await run_post(request, services, merchant_id, 202, produce)

    @post("/webhook_endpoints", status_code=201,
          summary="Register a webhook endpoint; its secret is shown once",
          responses=ERROR_RESPONSES)
    async def create_endpoint(
        request: AnyRequest, data: JSONBody[CreateEndpointIn]
    ) -> Response[EndpointCreatedOut]:
        merchant_id = request.state.merchant_id

        async def produce() -> dict[str, Any]:
            command = CreateEndpointCommand(
                merchant_id=merchant_id, url=data.url, events=list(data.events))
            return with_secret(await uc.create_webhook_endpoint(command))

        return await run_post(request, services, merchant_id, 201, produce, sealed=True)

    @get("/webhook_endpoints", summary="List the webhook endpoints", responses=ERROR_RESPONSES)
    async def list_endpoints(request: AnyRequest) -> Response[EndpointList]:
        endpoints = await uc.list_webhook_endpoints(request.state.merchant_id)
        return json_response({"data": [endpoint_out(e) for e in endpoints]})

    @get("/webhook_endpoints/{endpoint_id:str}", summary="Retrieve a webhook endpoint",
         responses=ERROR_RESPONSES)
    async def get_endpoint(
        request: AnyRequest, endpoint_id: FromPath[str]
    ) -> Response[EndpointOut]:
        endpoint = await uc.get_webhook_endpoint(endpoint_id, request.state.merchant_id)
        return json_response(endpoint_out(endpoint))

    @delete("/webhook_endpoints/{endpoint_id:str}", status_code=200,
            summary="Delete a webhook endpoint", responses=ERROR_RESPONSES)
    async def delete_endpoint(
        request: AnyRequest, endpoint_id: FromPath[str]
    ) -> Response[DeletedOut]:
        await uc.delete_webhook_endpoint(endpoint_id, request.state.merchant_id)
        return json_response({"id": endpoint_id, "deleted": True})

    @post("/webhook_endpoints/{endpoint_id:str}/rotate_secret", status_code=200,
          summary="A new signing secret; the old one signs too for 24 h",
          responses=ERROR_RESPONSES)
    async def rotate_secret(
        request: AnyRequest, endpoint_id: FromPath[str]
    ) -> Response[EndpointCreatedOut]:
        merchant_id = request.state.merchant_id

        async def produce() -> dict[str, Any]:
            return with_secret(await uc.rotate_webhook_secret(endpoint_id, merchant_id))

        return await run_post(request, services, merchant_id, 200, produce, sealed=True)

    return [list_events, get_event, list_deliveries, redeliver, create_endpoint,
            list_endpoints, get_endpoint, delete_endpoint, rotate_secret]

