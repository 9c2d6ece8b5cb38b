"""The business spans of the ports a payment goes through: risk, order and channel.

Each remote adapter injects `traceparent` into its HTTP call while its span is current, so
the remote service's server span becomes a child of `RiskCheck`, `CreateOrder`...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from opentelemetry.trace import Tracer

from observability.attributes import (
    Attributes,
    business_attributes,
    no_attributes,
    risk_attributes,
)
from observability.decorators import TracedPort
from observability.metrics import Metrics

P = TypeVar("P")


def traced_risk(inner: P, tracer: Tracer | None = None) -> P:
    """`RiskCheck` around `assess`, with risk.decision and risk.score from the decision."""
    return _as(inner, TracedPort(inner, {"assess": "RiskCheck"}, tracer,
                                 after={"assess": risk_attributes}))


def traced_order(inner: P, tracer: Tracer | None = None) -> P:
    """`CreateOrder` around `create_order` (status updates are not worth a span)."""
    return _as(inner, TracedPort(inner, {"create_order": "CreateOrder"}, tracer,
                                 after={"create_order": no_attributes},
                                 fixed=("shares_database", "update_status")))


CHANNEL_SPANS = {
    "charge": "ChannelPayment",
    "authorize": "ChannelPayment",
    "capture": "ChannelCapture",
    "void": "ChannelVoid",
    "refund": "ChannelRefund",
}


def traced_channel(inner: P, tracer: Tracer | None = None, name: str | None = None) -> P:
    """`ChannelPayment` around `charge` and `authorize`, `ChannelCapture`, `ChannelVoid`,
    and `ChannelRefund` around `refund`; each names its channel (`channel.name`), so a
    routed payment's attempts show as one span each, on their channels, under
    `CreatePayment` (with `attempt_key` from the second attempt on)."""
    spans = {method: name for method, name in CHANNEL_SPANS.items() if hasattr(inner, method)}
    before = business_attributes
    if name is not None:
        channel_name = name

        def before(obj: object) -> Attributes:
            return {**business_attributes(obj), "channel.name": channel_name}

    return _as(inner, TracedPort(inner, spans, tracer, before=before))


def traced_channels(channels: Mapping[str, P], tracer: Tracer | None = None) -> dict[str, P]:
    return {name: traced_channel(channel, tracer, name) for name, channel in channels.items()}


class MeteredWebhookSender:
    """Counts each delivery attempt that fails (not 2xx, or no answer) by its endpoint."""

    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], traceparent: str | None = None,
        *, endpoint: str | None = None,
    ) -> int:
        failed = True
        try:
            status: int = await self._inner.post(url, body, headers, traceparent,
                                                 endpoint=endpoint)
            failed = not 200 <= status < 300
            return status
        finally:
            if failed:
                self._metrics.record_webhook_failure(endpoint or "notify_url")

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":  # not set yet (a copy): never recurse
            raise AttributeError(name)
        return getattr(self._inner, name)


def metered_webhook_sender(inner: P, metrics: Metrics) -> P:
    return MeteredWebhookSender(inner, metrics)  # type: ignore[return-value]


def _as(_: P, proxy: TracedPort) -> P:
    """A TracedPort stands in for the port it wraps: type it as that port for the container."""
    return proxy  # type: ignore[return-value]
