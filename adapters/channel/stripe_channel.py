"""`ChannelPort` for Stripe, spoken directly over httpx (see ADR 0006 for why).

Charges are PaymentIntents created and confirmed in one POST; an authorization is one
with `capture_method=manual`, later captured (`/capture`) or canceled (`/cancel`);
refunds are Refunds. Every POST carries an `Idempotency-Key` (the request's own), which
is what makes it safe to retry after a timeout or a 5xx: Stripe answers a repeated key
with the first result instead of charging, capturing or cancelling again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from adapters.channel import stripe_wire as forms
from adapters.channel.outcomes import (
    CHANNEL_UNAVAILABLE,
    charge_without_answer,
    refund_without_answer,
    unknown_charge,
    unknown_refund,
)
from adapters.channel.stripe_results import (
    IntentState,
    capture_state,
    charge_result,
    intent_result,
    move_result,
    refund_object_result,
    refund_result,
    void_state,
)
from adapters.channel.stripe_webhook import parse_stripe_event
from adapters.resilience import DEFAULT_POLICY, Breakers, DependencyError, Policy, RemoteService
from application.errors import Unavailable
from application.ports.channel import (
    CaptureRequest,
    ChannelEvent,
    ChargeRequest,
    ChargeResult,
    Outcome,
    RefundRequest,
    RefundResult,
    VoidRequest,
)
from domain.card import CardDetails
from domain.routing import payment_of_key

API_BASE = "https://api.stripe.com"
API_VERSION = "2024-06-20"  # pinned, so Stripe never changes a response shape under us


class StripeChannel:
    name = "stripe"

    def __init__(self, service: RemoteService, webhook_secret: str) -> None:
        self._service = service
        self._webhook_secret = webhook_secret

    @classmethod
    def connect(
        cls,
        api_key: str,
        webhook_secret: str,
        breakers: Breakers,
        *,
        base_url: str = API_BASE,
        policy: Policy = DEFAULT_POLICY,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> StripeChannel:
        headers = {"Authorization": f"Bearer {api_key}", "Stripe-Version": API_VERSION}
        service = RemoteService.open(
            "channel:stripe", base_url, breakers, policy, headers=headers, transport=transport
        )
        return cls(service, webhook_secret)

    async def aclose(self) -> None:
        await self._service.aclose()

    async def tokenize(self, card: CardDetails) -> str:
        """A PaymentMethod id (`pm_...`) to confirm later with `payment_method=`."""
        try:
            response = await self._post(
                "/v1/payment_methods", forms.payment_method_form(card), key=f"pm-{uuid.uuid4()}"
            )
        except DependencyError as exc:
            raise Unavailable(f"stripe could not tokenize: {exc}") from exc
        token = _body(response).get("id") if response.status_code == 200 else None
        if not isinstance(token, str):
            raise Unavailable(f"stripe refused to tokenize ({response.status_code})")
        return token

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        return await self._intent(forms.payment_intent_form(request), request.idempotency_key)

    async def authorize(self, request: ChargeRequest) -> ChargeResult:
        return await self._intent(forms.authorization_form(request), request.idempotency_key)

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        form = forms.capture_form(request)
        return await self._move(request.payment_no, request.reference, "capture", form,
                                request.idempotency_key, capture_state)

    async def void(self, request: VoidRequest) -> ChargeResult:
        return await self._move(request.payment_no, request.reference, "cancel", [],
                                request.idempotency_key, void_state)

    async def refund(self, request: RefundRequest) -> RefundResult:
        try:
            intent = request.charge_reference or await self._find_intent(request.payment_no)
        except DependencyError as exc:
            return RefundResult(Outcome.FAILED, None, CHANNEL_UNAVAILABLE, str(exc))
        if intent is None:
            return RefundResult(Outcome.FAILED, None, "charge_not_found", "no such charge")
        form = forms.refund_form(request, intent)
        try:
            response = await self._post("/v1/refunds", form, request.idempotency_key)
        except DependencyError as exc:
            return refund_without_answer(exc)
        return refund_result(response)

    async def query_charge(self, payment_no: str, reference: str | None) -> ChargeResult:
        """Without a reference (the create timed out) the intent is found by its metadata.
        Not found: UNKNOWN `not_found`, since Stripe's search lags writes by a little. A
        routed payment's attempt key (`pay_....2`) names its payment: a route lists a
        channel once, so Stripe holds at most one intent per payment."""
        return await self._query_intent(payment_of_key(payment_no), reference, intent_result)

    async def query_capture(self, payment_no: str, reference: str | None) -> ChargeResult:
        return await self._query_intent(payment_no, reference, capture_state)

    async def query_void(self, payment_no: str, reference: str | None) -> ChargeResult:
        return await self._query_intent(payment_no, reference, void_state)

    async def query_refund(self, refund_no: str, reference: str | None) -> RefundResult:
        try:
            if reference:
                return refund_object_result(_body(await self._get(f"/v1/refunds/{reference}")))
            recent = _body(await self._get("/v1/refunds", params={"limit": "100"}))
        except (DependencyError, ValueError) as exc:
            return unknown_refund(exc)
        for refund in recent.get("data") or []:
            if (refund.get("metadata") or {}).get("refund_no") == refund_no:
                return refund_object_result(refund)
        return RefundResult(Outcome.UNKNOWN, None, "not_found", "stripe has no such refund")

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> ChannelEvent:
        return parse_stripe_event(headers, body, now, self._webhook_secret)

    async def _intent(self, form: forms.Form, key: str) -> ChargeResult:
        try:
            response = await self._post("/v1/payment_intents", form, key)
        except DependencyError as exc:
            return charge_without_answer(exc)
        return charge_result(response)

    async def _move(
        self, payment_no: str, reference: str | None, verb: str, form: forms.Form, key: str,
        state: IntentState,
    ) -> ChargeResult:
        """Capture or cancel the payment's intent, found by its metadata if need be."""
        try:
            intent = reference or await self._find_intent(payment_no)
        except DependencyError as exc:
            return ChargeResult(Outcome.FAILED, None, CHANNEL_UNAVAILABLE, str(exc))
        if intent is None:
            return ChargeResult(Outcome.FAILED, None, "charge_not_found", "no such charge")
        try:
            response = await self._post(f"/v1/payment_intents/{intent}/{verb}", form, key)
        except DependencyError as exc:
            return charge_without_answer(exc)
        return move_result(response, state)

    async def _query_intent(
        self, payment_no: str, reference: str | None, state: IntentState
    ) -> ChargeResult:
        try:
            if reference:
                return state(_body(await self._get(f"/v1/payment_intents/{reference}")))
            intent = await self._search_intent(payment_no)
        except (DependencyError, ValueError) as exc:
            return unknown_charge(exc)
        if intent is None:
            return ChargeResult(Outcome.UNKNOWN, None, "not_found", "stripe has no such charge")
        return state(intent)

    async def _find_intent(self, payment_no: str) -> str | None:
        """Nothing has been refunded yet, so a failed search fails the refund harmlessly."""
        try:
            intent = await self._search_intent(payment_no)
        except ValueError:
            return None
        return intent.get("id") if intent else None

    async def _search_intent(self, payment_no: str) -> dict[str, Any] | None:
        params = {"query": forms.search_query(payment_no), "limit": "1"}
        found = _body(await self._get("/v1/payment_intents/search", params=params))
        data = found.get("data") or []
        return data[0] if data and isinstance(data[0], dict) else None

    async def _post(self, path: str, form: forms.Form, key: str) -> httpx.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": key}
        return await self._service.request(
            "POST", path, idempotent=True, content=forms.encode(form), headers=headers
        )

    async def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        return await self._service.request("GET", path, idempotent=True, params=params)


def _body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 200; `ValueError` for anything else, which queries treat as
    "no answer"."""
    if response.status_code != 200:
        raise ValueError(f"stripe answered {response.status_code}")
    payload = response.json()
    if not isinstance(payload, dict):
        raise ValueError("stripe answered something that is not an object")
    return payload
