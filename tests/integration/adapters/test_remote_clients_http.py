"""The remote risk, order and channel clients against real local servers over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from adapter_http_settings import QUICK
from opentelemetry.sdk.trace import TracerProvider
from remote_services import RemoteServices
from threaded_server import free_port, serving

from adapters.channel.remote import RemoteChannelClient
from adapters.channel.sandbox import SandboxChannel
from adapters.channel.sandbox_notifications import sign_sandbox_notification
from adapters.order.remote import RemoteOrderClient
from adapters.resilience import Breakers, RemoteService
from adapters.risk import CardFingerprinter, RemoteRiskClient, RiskSettings, RuleEngine
from application.errors import Unavailable
from application.ports.channel import ChannelEvent, ChargeRequest, Outcome, RefundRequest
from application.ports.external import OrderRequest, RiskRequest
from domain.card import CardDetails
from domain.money import Money
from domain.risk import Verdict

SECRET = "sandbox-integration-secret"
KEY = "integration-fingerprint-key"


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[str, RemoteServices]]:
    app = RemoteServices(RuleEngine(RiskSettings(fingerprint_key=KEY)), SandboxChannel(SECRET))
    with serving(app) as url:
        yield url, app


@pytest.fixture
async def remote(services: tuple[str, RemoteServices]) -> AsyncIterator[dict[str, RemoteService]]:
    breakers = Breakers()
    opened = {
        name: RemoteService.open(name, services[0], breakers, QUICK)
        for name in ("risk", "order", "channel:sandbox")
    }
    yield opened
    for service in opened.values():
        await service.aclose()


def card(number: str) -> CardDetails:
    return CardDetails(number, 12, 2030, "123")


@pytest.mark.parametrize(
    ("number", "verdict"),
    [
        ("4242424242424242", Verdict.APPROVE),
        ("4000000000004954", Verdict.REVIEW),
        ("4100000000000019", Verdict.REJECT),
    ],
)
async def test_remote_risk_decides_the_contract_test_cards(
    remote: dict[str, RemoteService], number: str, verdict: Verdict
) -> None:
    client = RemoteRiskClient(remote["risk"], CardFingerprinter(KEY))
    request = RiskRequest("mer_1", f"pay_{number}", "O-1", Money(100, "USD"), card(number))
    assert (await client.assess(request)).verdict is verdict


async def test_remote_calls_carry_the_callers_trace(
    remote: dict[str, RemoteService], services: tuple[str, RemoteServices]
) -> None:
    client = RemoteRiskClient(remote["risk"], CardFingerprinter(KEY))
    with TracerProvider().get_tracer("t").start_as_current_span("RiskCheck") as span:
        await client.assess(RiskRequest("mer_1", "pay_t", "O-t", Money(1, "USD")))
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert any(header.split("-")[1] == trace_id for header in services[1].traceparents)


async def test_remote_orders_are_recorded_and_follow_their_payment(
    remote: dict[str, RemoteService], services: tuple[str, RemoteServices]
) -> None:
    client = RemoteOrderClient(remote["order"])
    order = OrderRequest("mer_1", "ORDER 7/1", "pay_7", Money(990, "EUR"), None, {"a": "b"})
    reference = await client.create_order(order)
    await client.update_status("mer_1", "ORDER 7/1", "succeeded")
    assert reference == "mer_1/ORDER 7/1"
    assert services[1].orders[("mer_1", "ORDER 7/1")] == order
    assert services[1].order_statuses["/v1/orders/mer_1/ORDER%207%2F1/status"] == "succeeded"


async def test_remote_channel_charges_once_and_settles_the_unknown_card(
    remote: dict[str, RemoteService], services: tuple[str, RemoteServices]
) -> None:
    client = RemoteChannelClient(remote["channel:sandbox"], SECRET)
    request = ChargeRequest("pay_u", "mer_1", Money(100, "USD"), card=card("4000000000000259"))
    first, again = await client.charge(request), await client.charge(request)
    queried = await client.query_charge("pay_u", None)
    assert (first.outcome, again.outcome, queried.outcome) == (
        Outcome.UNKNOWN,
        Outcome.SUCCEEDED,
        Outcome.SUCCEEDED,
    )
    assert services[1].sandbox.charges_for("pay_u") == 1


async def test_remote_channel_tokens_and_refunds(remote: dict[str, RemoteService]) -> None:
    client = RemoteChannelClient(remote["channel:sandbox"], SECRET)
    token = await client.tokenize(card("4000000000000002"))
    declined = await client.charge(ChargeRequest("pay_d", "mer_1", Money(5, "USD"), token=token))
    refund = await client.refund(RefundRequest("ref_r", "pay_x", Money(300, "USD"), "ch_1"))
    assert declined.failure_code == "card_declined"
    assert refund.outcome is Outcome.SUCCEEDED
    assert await client.query_refund("ref_r", refund.reference) == refund


async def test_a_notification_relayed_by_the_channel_service_verifies() -> None:
    event = ChannelEvent("evt_9", "charge.succeeded", "pay_u")
    now = datetime.now(UTC)
    body, headers = sign_sandbox_notification(event, SECRET, int(now.timestamp()))
    client = RemoteChannelClient(RemoteService.open("c", "http://x", Breakers()), SECRET)
    assert client.parse_notification(headers, body, now) == event


async def test_services_that_are_down_are_unavailable_or_fail_fast() -> None:
    breakers = Breakers(failure_threshold=2)
    down = f"http://127.0.0.1:{free_port()}"
    risk = RemoteRiskClient(
        RemoteService.open("risk", down, breakers, QUICK), CardFingerprinter(KEY)
    )
    channel = RemoteChannelClient(
        RemoteService.open("channel:sandbox", down, breakers, QUICK), SECRET
    )
    with pytest.raises(Unavailable):
        await risk.assess(RiskRequest("m", "p", "o", Money(1, "USD")))
    result = await channel.charge(
        ChargeRequest("pay_z", "m", Money(1, "USD"), card=card("4242424242424242"))
    )
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "channel_unavailable")
    assert breakers.states() == {"channel:sandbox": "open", "risk": "open"}
