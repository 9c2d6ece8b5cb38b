"""Bodies of the event feed and webhook endpoint routes (entrypoints/http/events_api.py).

Requests refuse unknown fields, as every request body does; responses are documented
here for the OpenAPI schema (the handlers answer the same shapes).
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from entrypoints.http.schemas import Url

EventType = Annotated[str, Meta(min_length=1, max_length=64)]


class _In(Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class CreateEndpointIn(_In):
    url: Url
    events: Annotated[list[EventType], Meta(min_length=1, max_length=64)]


class RedeliverIn(_In):
    endpoint_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class EventOut(Struct):
    id: str
    sequence: int
    type: str
    created_at: str
    data: dict[str, Any]


class EventPage(Struct):
    data: list[EventOut]
    next_after: int
    has_more: bool


class DeliveryOut(Struct):
    id: str
    event_id: str
    endpoint_id: str | None
    url: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None
    created_at: str


class DeliveryList(Struct):
    data: list[DeliveryOut]


class EndpointOut(Struct):
    id: str
    url: str
    events: list[str]
    created_at: str
    previous_secret_expires_at: str | None


class EndpointCreatedOut(EndpointOut):
    secret: str


class EndpointList(Struct):
    data: list[EndpointOut]


class DeletedOut(Struct):
    id: str
    deleted: bool
