"""Stripe's side of the conversation: the forms we POST and how we read its answers.

Stripe takes `application/x-www-form-urlencoded` bodies with bracketed keys
(`payment_method_data[card][number]`), lowercase currencies and integer minor units, and
answers JSON objects, or `{"error": {...}}` with a 4xx status.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from application.ports.channel import CaptureRequest, ChargeRequest, RefundRequest
from domain.card import CardDetails

Form = list[tuple[str, str]]

# Stripe's `decline_code` / `code` values, and the failure code a paygate payment shows.
FAILURE_CODES: dict[str, str] = {
    "card_declined": "card_declined",
    "generic_decline": "card_declined",
    "do_not_honor": "card_declined",
    "fraudulent": "card_declined",
    "insufficient_funds": "insufficient_funds",
    "expired_card": "expired_card",
    "incorrect_cvc": "incorrect_cvc",
    "invalid_cvc": "incorrect_cvc",
    "incorrect_number": "incorrect_number",
    "invalid_number": "incorrect_number",
    "invalid_expiry_month": "invalid_expiry",
    "invalid_expiry_year": "invalid_expiry",
    "lost_card": "lost_card",
    "stolen_card": "stolen_card",
    "processing_error": "processing_error",
    "authentication_required": "authentication_required",
}


def encode(form: Form) -> bytes:
    return urlencode(form).encode("ascii")


def card_fields(prefix: str, card: CardDetails) -> Form:
    return [
        (f"{prefix}[number]", card.number),
        (f"{prefix}[exp_month]", str(card.exp_month)),
        (f"{prefix}[exp_year]", str(card.exp_year)),
        (f"{prefix}[cvc]", card.cvc),
    ]


def payment_method_form(card: CardDetails) -> Form:
    return [("type", "card"), *card_fields("card", card)]


def payment_intent_form(request: ChargeRequest) -> Form:
    """Create and confirm in one call. No customer is present to pass 3-D Secure, so a
    card that asks for it fails now (`error_on_requires_action`) instead of hanging."""
    form: Form = [
        ("amount", str(request.amount.amount)),
        ("currency", request.amount.currency.lower()),
        ("confirm", "true"),
        ("error_on_requires_action", "true"),
        ("payment_method_types[0]", "card"),
        ("metadata[payment_no]", request.payment_no),
        ("metadata[merchant_id]", request.merchant_id),
    ]
    if request.card is not None:
        form += [
            ("payment_method_data[type]", "card"),
            *card_fields("payment_method_data[card]", request.card),
        ]
    elif request.token is not None:
        form.append(("payment_method", request.token))
    if request.description:
        form.append(("description", request.description))
    return form


def authorization_form(request: ChargeRequest) -> Form:
    """A PaymentIntent confirmed with `capture_method=manual`: the card is authorized and
    the intent waits in `requires_capture`; its latest charge says until when
    (`payment_method_details.card.capture_before`), so it is expanded."""
    return [
        *payment_intent_form(request),
        ("capture_method", "manual"),
        ("expand[0]", "latest_charge"),
    ]


def capture_form(request: CaptureRequest) -> Form:
    """Less than authorized captures that much; Stripe releases the rest."""
    return [("amount_to_capture", str(request.amount.amount))]


def refund_form(request: RefundRequest, payment_intent: str) -> Form:
    return [
        ("payment_intent", payment_intent),
        ("amount", str(request.amount.amount)),
        ("metadata[refund_no]", request.refund_no),
        ("metadata[payment_no]", request.payment_no),
    ]


def search_query(payment_no: str) -> str:
    """Stripe search syntax; a quote inside the value is escaped with a backslash."""
    escaped = payment_no.replace("\\", "\\\\").replace("'", "\\'")
    return f"metadata['payment_no']:'{escaped}'"


def failure_code(error: dict[str, Any] | None) -> str:
    """The most specific code we know: `decline_code` first, then `code`."""
    error = error or {}
    for candidate in (error.get("decline_code"), error.get("code")):
        if isinstance(candidate, str) and candidate in FAILURE_CODES:
            return FAILURE_CODES[candidate]
    return "card_declined" if error.get("type") == "card_error" else "channel_error"
