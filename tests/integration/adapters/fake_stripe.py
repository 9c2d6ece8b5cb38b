"""A local stand-in for Stripe's API, strict about the wire format paygate must speak.

It refuses what real Stripe would refuse (no `Bearer sk_test_...`, a body that is not
form-encoded, a POST without `Idempotency-Key`, a key reused with other parameters) and
honours idempotency: a repeated key replays the first answer without charging again.
Cards follow Stripe's test numbers; 4000000000000259 answers only after `slow_seconds`.
An intent confirmed with `capture_method=manual` waits in `requires_capture` (its latest
charge, when expanded, says until when) for `/capture` (at most what it holds, once) or
`/cancel`, as Stripe's do.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from threaded_server import read_body, respond

API_KEY = "sk_test_paygate_fake"
DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline"),
    "4000000000009995": ("card_declined", "insufficient_funds"),
    "4000000000000069": ("expired_card", None),
    "4000000000000127": ("incorrect_cvc", None),
    "4000000000000119": ("processing_error", None),
}
SLOW_CARD = "4000000000000259"
HOLD_SECONDS = 7 * 24 * 3600
NOW = 1_800_000_000  # the fake's clock: authorizations hold until NOW + HOLD_SECONDS
Answer = tuple[int, dict[str, Any]]
_MOVE = re.compile(r"/v1/payment_intents/(?P<intent>[^/]+)/(?P<verb>capture|cancel)")


def _error(status: int, message: str, **fields: Any) -> Answer:
    kind = fields.pop("type", "invalid_request_error")
    return status, {"error": {"type": kind, "message": message, **fields}}


class FakeStripe:
    def __init__(self, slow_seconds: float = 1.0) -> None:
        self.slow_seconds = slow_seconds
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.methods: dict[str, str] = {}  # pm id -> test card number
        self.charges: Counter[str] = Counter()  # payment_no -> intents created
        self.moves: Counter[str] = Counter()  # "capture:pi_1" -> times really done
        self.faults: list[int] = []
        self.posts: list[tuple[str, dict[str, str], list[tuple[str, str]]]] = []
        self._stored: dict[str, tuple[str, Answer]] = {}
        self._running: set[str] = set()
        self._ids = itertools.count(1)

    def fail_next(self, *statuses: int) -> None:
        """The next POSTs answer these statuses before Stripe would process anything."""
        self.faults.extend(statuses)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body = await read_body(receive)
        if headers.get("authorization") != f"Bearer {API_KEY}":
            status, payload = _error(401, "Invalid API Key provided", type="invalid_request_error")
        elif scope["method"] == "POST":
            status, payload = await self._post(scope["path"], headers, body)
        else:
            status, payload = self._get(scope["path"], parse_qs(scope["query_string"].decode()))
        await respond(send, status, json.dumps(payload).encode())

    async def _post(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if headers.get("content-type") != "application/x-www-form-urlencoded":
            return _error(400, "fake: body must be form-encoded")
        key = headers.get("idempotency-key")
        if not key:
            return _error(400, "fake: every POST needs an Idempotency-Key")
        form = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
        self.posts.append((path, headers, form))
        if self.faults:
            return self.faults.pop(0), {"error": {"type": "api_error", "message": "boom"}}
        fingerprint = f"{path}?{sorted(form)}"
        if key in self._running:
            return _error(409, "request in progress", type="idempotency_error")
        if key in self._stored:
            stored_fingerprint, answer = self._stored[key]
            if stored_fingerprint != fingerprint:
                return _error(
                    400,
                    "keys for idempotent requests can only be used with the same parameters",
                    type="idempotency_error",
                )
            return answer
        self._running.add(key)
        try:
            answer = await self._create(path, dict(form))
        finally:
            self._running.discard(key)
        self._stored[key] = (fingerprint, answer)
        return answer

    async def _create(self, path: str, form: dict[str, str]) -> Answer:
        if path == "/v1/payment_intents":
            return await self._payment_intent(form)
        if path == "/v1/refunds":
            return self._refund(form)
        moved = _MOVE.fullmatch(path)
        if moved:
            return self._move(moved["intent"], moved["verb"], form)
        if path == "/v1/payment_methods" and form.get("type") == "card":
            pm = f"pm_{next(self._ids)}"
            self.methods[pm] = form["card[number]"]
            return 200, {"id": pm, "object": "payment_method"}
        return _error(404, f"fake: no POST {path}")

    async def _payment_intent(self, form: dict[str, str]) -> Answer:
        problem = _check_intent_form(form, self.methods)
        if problem:
            return _error(400, f"fake: {problem}")
        number = (
            form.get("payment_method_data[card][number]") or self.methods[form["payment_method"]]
        )
        intent: dict[str, Any] = {
            "id": f"pi_{next(self._ids)}",
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "status": "succeeded",
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "amount_refunded": 0,
            "last_payment_error": None,
            "capture_method": form.get("capture_method", "automatic"),
        }
        self.intents[intent["id"]] = intent
        self.charges[intent["metadata"]["payment_no"]] += 1
        if number in DECLINES:
            code, decline = DECLINES[number]
            error = {
                "type": "card_error",
                "code": code,
                "decline_code": decline,
                "message": "Your card was declined.",
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            return 402, {"error": {**error, "payment_intent": intent}}
        if number == SLOW_CARD:
            await asyncio.sleep(self.slow_seconds)
        if form.get("capture_method") == "manual":
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            if form.get("expand[0]") == "latest_charge":
                card = {"capture_before": NOW + HOLD_SECONDS}
                intent["latest_charge"] = {"id": "ch_1", "payment_method_details": {"card": card}}
            return 200, intent
        intent["amount_received"] = intent["amount"]
        return 200, intent

    def _move(self, intent_id: str, verb: str, form: dict[str, str]) -> Answer:
        intent = self.intents.get(intent_id)
        if intent is None:
            return _error(404, "No such payment_intent", code="resource_missing")
        if intent["status"] != "requires_capture":
            return _error(400, f"cannot {verb} an intent that is {intent['status']}",
                          code="payment_intent_unexpected_state", payment_intent=dict(intent))
        self.moves[f"{verb}:{intent_id}"] += 1
        if verb == "cancel":
            intent.update(status="canceled", amount_capturable=0)
            return 200, intent
        amount = int(form.get("amount_to_capture", intent["amount_capturable"]))
        if amount > intent["amount_capturable"]:
            return _error(400, "amount_to_capture is too large", code="amount_too_large")
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        return 200, intent

    def _refund(self, form: dict[str, str]) -> Answer:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return _error(400, "fake: no such succeeded payment intent", code="resource_missing")
        amount = int(form["amount"])
        if intent["amount_refunded"] + amount > intent["amount_received"]:
            return _error(400, "amount too large", code="amount_too_large")
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_{next(self._ids)}",
            "object": "refund",
            "amount": amount,
            "status": "succeeded",
            "payment_intent": intent["id"],
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def _get(self, path: str, query: dict[str, list[str]]) -> Answer:
        if path == "/v1/payment_intents/search":
            match = re.fullmatch(r"metadata\['payment_no'\]:'(.*)'", query["query"][0])
            wanted = match.group(1) if match else None
            found = [i for i in self.intents.values() if i["metadata"].get("payment_no") == wanted]
            return 200, {"object": "search_result", "data": found[-1:]}
        if path == "/v1/refunds":
            return 200, {"object": "list", "data": list(reversed(self.refunds.values()))}
        collection, _, key = path.rpartition("/")
        objects = {"/v1/payment_intents": self.intents, "/v1/refunds": self.refunds}
        found_object = objects.get(collection, {}).get(key)
        return (200, found_object) if found_object else _error(404, "No such object")


def _check_intent_form(form: dict[str, str], methods: dict[str, str]) -> str | None:
    """What real Stripe would refuse, or what paygate promised to send."""
    if not form.get("amount", "").isdigit():
        return "amount must be an integer"
    if not re.fullmatch(r"[a-z]{3}", form.get("currency", "")):
        return "currency must be three lowercase letters"
    if form.get("confirm") != "true" or "metadata[payment_no]" not in form:
        return "expected confirm=true and metadata[payment_no]"
    if form.get("payment_method") in methods:
        return None
    card = [f"payment_method_data[card][{f}]" for f in ("number", "exp_month", "exp_year", "cvc")]
    if form.get("payment_method_data[type]") != "card" or not all(k in form for k in card):
        return "expected payment_method_data[type]=card and the card's fields"
    return None
