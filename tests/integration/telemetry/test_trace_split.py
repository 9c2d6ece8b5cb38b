"""One payment is one trace across all four processes of a split deployment."""

from __future__ import annotations

from test_traces import GATEWAY_SERVER, RISK_SERVER, ancestors, only, pay
from traces import Deployment

ORDER_SERVER = "POST /v1/orders"
CHANNEL_SERVER = "POST /v1/{rest}"


def test_a_payment_is_one_trace_across_gateway_risk_order_and_channel(split: Deployment) -> None:
    trace_id = pay(split, "SPLIT-TRACE-1")
    spans = split.spans.wait_for_trace(
        trace_id, {GATEWAY_SERVER, RISK_SERVER, ORDER_SERVER, CHANNEL_SERVER}
    )

    services = {span.service for span in spans}
    assert len(services) == 4, sorted(services)
    gateway = only(spans, GATEWAY_SERVER)
    for remote, via in (
        (RISK_SERVER, "RiskCheck"),
        (ORDER_SERVER, "CreateOrder"),
        (CHANNEL_SERVER, "ChannelPayment"),
    ):
        chain = ancestors(only(spans, remote), spans)
        assert only(spans, via) in chain, (remote, [s.name for s in chain])
        assert gateway in chain, remote
        assert only(spans, remote).service != gateway.service
