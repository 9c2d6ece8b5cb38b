"""Deliveries to endpoints: each event once per endpoint that wants it, signed with the
endpoint's secret (both secrets during a rollover); the merchant's view of an event's
deliveries; and a redelivery of the same event id and body, signed afresh."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from application.errors import NotFound, ValidationFailed
from application.use_cases.deliver_webhooks import ENDPOINT_GONE
from tests.unit.fakes import Gateway

URL = "https://hooks.merchant.example/in"
TWO_SIGNATURES = re.compile(r"^t=(\d+),v1=([0-9a-f]{64}),v1=([0-9a-f]{64})$")


def digest(secret: str, timestamp: str, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


async def succeeded_event(gateway: Gateway, merchant_id: str) -> str:
    """A new payment's published `payment.succeeded` event; its id."""
    await gateway.pay(merchant_id)
    await gateway.publish_events()
    mine = [e for e in gateway.db.events.values() if e.merchant_id == merchant_id]
    return max(mine, key=lambda e: e.sequence).event_id


class TestDeliveringToEndpoints:
    async def test_each_event_goes_once_to_each_endpoint_that_wants_it(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.endpoint(merchant_id, "*", url="https://a.example/in")
        await gateway.endpoint(merchant_id, "payment.succeeded", url="https://b.example/in")
        await gateway.pay(merchant_id)
        await gateway.publish_events()

        assert await gateway.deliver_webhooks() == {"delivered": 4, "retrying": 0, "dead": 0}
        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 0, "dead": 0}

        sent = sorted((p.url, p.body) for p in gateway.sender.posts)
        bodies = {e.type: e.body.encode() for e in gateway.db.events.values()}
        assert sent == sorted([
            ("https://a.example/in", bodies["payment.pending"]),
            ("https://a.example/in", bodies["payment.processing"]),
            ("https://a.example/in", bodies["payment.succeeded"]),
            ("https://b.example/in", bodies["payment.succeeded"]),
        ])

    async def test_a_delivery_is_signed_with_the_endpoints_own_secret(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        new = await gateway.endpoint(merchant_id, "payment.succeeded")
        await succeeded_event(gateway, merchant_id)

        await gateway.deliver_webhooks()

        [post] = gateway.sender.posts
        timestamp, signed = post.headers["X-Paygate-Signature"].removeprefix("t=").split(",v1=")
        assert signed == digest(new.secret, timestamp, post.body)
        assert post.endpoint == new.endpoint.endpoint_id

    async def test_during_a_rollover_both_secrets_sign_and_after_it_only_the_new(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        old = await gateway.endpoint(merchant_id, "payment.succeeded")
        new = await gateway.rotate_secret(old.endpoint.endpoint_id, merchant_id)
        await succeeded_event(gateway, merchant_id)
        await gateway.deliver_webhooks()
        gateway.clock.advance(hours=24)
        await succeeded_event(gateway, merchant_id)
        await gateway.deliver_webhooks()

        during, after = gateway.sender.posts
        both = TWO_SIGNATURES.match(during.headers["X-Paygate-Signature"])
        assert both is not None
        timestamp, first, second = both.groups()
        assert (first, second) == (
            digest(new.secret, timestamp, during.body), digest(old.secret, timestamp, during.body)
        )
        assert after.headers["X-Paygate-Signature"].count("v1=") == 1

    async def test_a_delivery_to_an_endpoint_deleted_meanwhile_is_dead_and_not_sent(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        new = await gateway.endpoint(merchant_id, "payment.succeeded")
        await succeeded_event(gateway, merchant_id)
        endpoint = gateway.db.endpoints[new.endpoint.endpoint_id]
        endpoint.delete(gateway.clock.now())  # as if deleted after the claim

        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 0, "dead": 1}

        [delivery] = gateway.db.deliveries.values()
        assert (delivery.attempts, delivery.last_error) == (0, ENDPOINT_GONE)
        assert gateway.sender.posts == []

    async def test_a_delivery_whose_event_was_pruned_is_dead_and_not_sent(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.endpoint(merchant_id, "payment.succeeded")
        event_id = await succeeded_event(gateway, merchant_id)
        del gateway.db.events[event_id]

        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 0, "dead": 1}
        assert gateway.sender.posts == []

    async def test_a_failed_delivery_keeps_the_status_code_for_the_merchant(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.endpoint(merchant_id, "payment.succeeded")
        event_id = await succeeded_event(gateway, merchant_id)
        gateway.sender.answer(503)
        await gateway.deliver_webhooks()

        [delivery] = await gateway.list_deliveries(event_id, merchant_id)
        assert (delivery.status.value, delivery.attempts, delivery.last_status_code) == (
            "pending", 1, 503
        )
        assert delivery.last_error == "HTTP 503"


class TestListEventDeliveries:
    async def test_every_delivery_of_the_event_oldest_first(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        first = await gateway.endpoint(merchant_id, "payment.succeeded")
        second = await gateway.endpoint(merchant_id, "*")
        event_id = await succeeded_event(gateway, merchant_id)

        deliveries = await gateway.list_deliveries(event_id, merchant_id)

        assert {d.endpoint_id for d in deliveries} == {
            first.endpoint.endpoint_id, second.endpoint.endpoint_id
        }
        assert {d.event_id for d in deliveries} == {event_id}

    async def test_another_merchants_event_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        other = await gateway.onboard("Globex")
        await gateway.endpoint(other)
        theirs = await succeeded_event(gateway, other)
        with pytest.raises(NotFound):
            await gateway.list_deliveries(theirs, merchant_id)


class TestRedeliverEvent:
    async def test_the_same_body_goes_again_in_a_new_delivery_signed_afresh(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        new = await gateway.endpoint(merchant_id, "payment.succeeded")
        event_id = await succeeded_event(gateway, merchant_id)
        await gateway.deliver_webhooks()
        gateway.clock.advance(hours=2)

        [again] = await gateway.redeliver(event_id, merchant_id)
        await gateway.deliver_webhooks()

        first, second = gateway.sender.posts
        assert first.body == second.body == gateway.db.events[event_id].body.encode()
        assert first.headers["X-Paygate-Signature"] != second.headers["X-Paygate-Signature"]
        assert second.headers["X-Paygate-Signature"].startswith(
            f"t={int(gateway.clock.now().timestamp())},")
        assert (again.endpoint_id, again.event_id) == (new.endpoint.endpoint_id, event_id)
        statuses = [d.status.value for d in await gateway.list_deliveries(event_id, merchant_id)]
        assert statuses == ["delivered", "delivered"]

    async def test_to_one_named_endpoint_even_one_that_did_not_subscribe(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.endpoint(merchant_id, "payment.succeeded")
        refunds_only = await gateway.endpoint(merchant_id, "refund.succeeded")
        event_id = await succeeded_event(gateway, merchant_id)

        redelivered = await gateway.redeliver(
            event_id, merchant_id, refunds_only.endpoint.endpoint_id)

        assert [d.endpoint_id for d in redelivered] == [refunds_only.endpoint.endpoint_id]

    async def test_without_an_endpoint_every_earlier_destination_still_there(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        kept = await gateway.endpoint(merchant_id, "payment.succeeded")
        dropped = await gateway.endpoint(merchant_id, "payment.succeeded")
        await gateway.pay(merchant_id, notify_url="https://m.example/h")
        await gateway.publish_events()
        [event_id] = {d.event_id for d in gateway.db.deliveries.values()}
        await gateway.delete_endpoint(dropped.endpoint.endpoint_id, merchant_id)

        redelivered = await gateway.redeliver(event_id, merchant_id)

        assert sorted((d.endpoint_id or "", d.url) for d in redelivered) == [
            ("", "https://m.example/h"), (kept.endpoint.endpoint_id, kept.endpoint.url)
        ]

    async def test_an_event_never_sent_anywhere_needs_an_endpoint(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        event_id = await succeeded_event(gateway, merchant_id)
        with pytest.raises(ValidationFailed, match="endpoint_id"):
            await gateway.redeliver(event_id, merchant_id)
        assert gateway.db.deliveries == {}

    async def test_another_merchants_event_or_endpoint_is_not_found_and_nothing_is_sent(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        other = await gateway.onboard("Globex")
        theirs = await gateway.endpoint(other, "payment.succeeded")
        mine = await gateway.endpoint(merchant_id, "payment.succeeded")
        their_event = await succeeded_event(gateway, other)
        my_event = await succeeded_event(gateway, merchant_id)
        before = dict(gateway.db.deliveries)

        with pytest.raises(NotFound):
            await gateway.redeliver(their_event, merchant_id)
        with pytest.raises(NotFound):
            await gateway.redeliver(my_event, merchant_id, theirs.endpoint.endpoint_id)
        assert gateway.db.deliveries == before
        assert mine.endpoint.endpoint_id in {d.endpoint_id for d in before.values()}
