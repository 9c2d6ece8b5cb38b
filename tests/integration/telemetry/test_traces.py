"""One payment, one trace, across `paygate serve` and `paygate serve-risk`.

Both processes export over OTLP/HTTP to one receiver; the gateway asks the risk service
over HTTP (PAYGATE_RISK_URL), injecting `traceparent`, and the risk service continues it.
"""

from __future__ import annotations

import re
import time

from gateway_client import payment_body
from process_harness import wait_for
from signed import send
from traces import Deployment, Exported
from webhook_receiver import WebhookReceiver, receiving

CARD_OK = "4242424242424242"
GATEWAY_SERVER = "POST /api/v1/payments"
RISK_SERVER = "POST /v1/risk/assess"
BUSINESS = {"CreatePayment", "RiskCheck", "CreateOrder", "ChannelPayment"}
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
QUIET = 1.0
"""How long an unsampled gateway gets to export anything (it exports every 100 ms)."""


def pay(deployment: Deployment, order_no: str, headers: dict[str, str] | None = None) -> str:
    """One successful payment; the response's X-Trace-ID."""
    keys = deployment.api.new_merchant(f"Traced {order_no}")
    body = payment_body(order_no, CARD_OK, 4_200)
    response = send(deployment.api, keys, "POST", "/api/v1/payments", body, headers)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "succeeded", response.text
    trace_id = response.headers["X-Trace-ID"]
    assert TRACE_ID.match(trace_id), trace_id
    return trace_id


def only(spans: list[Exported], name: str) -> Exported:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [f"{s.service}:{s.name}" for s in spans]
    return found[0]


def ancestors(span: Exported, spans: list[Exported]) -> list[Exported]:
    by_id = {s.span_id: s for s in spans}
    chain = []
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain


def test_a_payment_is_one_trace_across_the_gateway_and_the_risk_service(
    traced: Deployment,
) -> None:
    trace_id = pay(traced, "TRACE-1")
    spans = traced.spans.wait_for_trace(trace_id, {GATEWAY_SERVER, RISK_SERVER, *BUSINESS})

    server = only(spans, GATEWAY_SERVER)
    create = only(spans, "CreatePayment")
    assert server.parent_id == "", "the gateway's server span is the root"
    assert create.parent_id == server.span_id
    for name in ("RiskCheck", "CreateOrder", "ChannelPayment"):
        assert only(spans, name).parent_id == create.span_id, name

    risk_server = only(spans, RISK_SERVER)
    gateway_services = {s.service for s in (server, create)}
    assert len(gateway_services) == 1
    assert risk_server.service not in gateway_services, (risk_server.service, gateway_services)
    chain = ancestors(risk_server, spans)
    assert chain, "the risk service's span has no parent in the gateway's trace"
    assert chain[0].service in gateway_services
    assert only(spans, "RiskCheck") in chain, [s.name for s in chain]

    # The risk service never starts a trace of its own: each of its spans has a parent.
    risk_spans = [span for span in traced.spans.all() if span.name == RISK_SERVER]
    assert all(span.parent_id for span in risk_spans), risk_spans


def test_an_incoming_sampled_traceparent_is_continued(traced: Deployment) -> None:
    parent_trace, parent_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    traceparent = f"00-{parent_trace}-{parent_span}-01"
    trace_id = pay(traced, "TRACE-2", {"traceparent": traceparent})
    assert trace_id == parent_trace
    spans = traced.spans.wait_for_trace(trace_id, {GATEWAY_SERVER, RISK_SERVER, *BUSINESS})
    assert only(spans, GATEWAY_SERVER).parent_id == parent_span


def test_sampling_rate_zero_exports_nothing_yet_every_response_has_a_trace_id(
    unsampled: Deployment,
) -> None:
    trace_id = pay(unsampled, "UNSAMPLED-1")
    time.sleep(QUIET)
    assert unsampled.spans.all() == [], [s.name for s in unsampled.spans.all()]
    assert trace_id != pay(unsampled, "UNSAMPLED-2")


def test_a_sampled_parent_is_followed_even_at_sampling_rate_zero(unsampled: Deployment) -> None:
    parent_trace, parent_span = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    trace_id = pay(unsampled, "UNSAMPLED-3", {"traceparent": f"00-{parent_trace}-{parent_span}-01"})
    assert trace_id == parent_trace
    spans = unsampled.spans.wait_for_trace(trace_id, {GATEWAY_SERVER, *BUSINESS})
    assert only(spans, GATEWAY_SERVER).parent_id == parent_span


def test_the_merchant_webhook_of_a_payment_is_delivered_in_the_payment_trace(
    traced: Deployment,
) -> None:
    """The event is written in the payment's request and sent later by the worker loop: the
    delivery is a `WebhookDelivery` span under `CreatePayment`, and the merchant receives
    that span's context as `traceparent`, so its own spans join the payment's trace."""
    keys = traced.api.new_merchant("Traced hooks")
    with receiving(WebhookReceiver()) as receiver:
        receiver.secret = keys.webhook_secret
        body = payment_body("TRACE-HOOK", CARD_OK, 4_200, notify_url=receiver.url("/hooks"))
        response = send(traced.api, keys, "POST", "/api/v1/payments", body)
        assert response.status_code == 201, response.text
        wait_for("the payment's webhook", lambda: receiver.delivered("payment.succeeded"))
    [delivery] = receiver.delivered("payment.succeeded")
    trace_id = response.headers["X-Trace-ID"]

    spans = traced.spans.wait_for_trace(trace_id, {"CreatePayment", "WebhookDelivery"})
    hook = only(spans, "WebhookDelivery")
    assert hook.parent_id == only(spans, "CreatePayment").span_id
    assert delivery.traceparent is not None
    assert delivery.traceparent.split("-")[1:3] == [trace_id, hook.span_id]
