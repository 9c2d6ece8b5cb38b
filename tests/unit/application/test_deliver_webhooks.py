import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from application.errors import NotFound
from application.ports.events import DeliveryStatus as WebhookStatus
from application.ports.events import WebhookDelivery
from application.use_cases.deliver_webhooks import RETRY_SCHEDULE, DeliverWebhooks, sign_webhook
from tests.unit.fakes import Gateway

HOOK = "https://merchant.example/hooks"
SIGNATURE = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


@dataclass(frozen=True)
class Sent:
    """A published event and its one delivery, to the payment's notify_url."""

    delivery_id: str
    event_id: str
    body: str


async def one_event(gateway: Gateway, merchant_id: str) -> Sent:
    await gateway.pay(merchant_id, notify_url=HOOK)
    await gateway.publish_events()
    [delivery] = gateway.db.deliveries.values()
    return Sent(delivery.delivery_id, delivery.event_id, gateway.db.events[delivery.event_id].body)


def stored(gateway: Gateway, event: Sent) -> WebhookDelivery:
    return gateway.db.deliveries[event.delivery_id]


class TestDeliverWebhooks:
    async def test_the_signature_is_an_hmac_of_timestamp_and_body_with_the_webhook_secret(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        event = await one_event(gateway, merchant_id)
        gateway.clock.advance(seconds=3)

        await gateway.deliver_webhooks()

        [post] = gateway.sender.posts
        assert post.url == HOOK
        assert post.body == event.body.encode()
        assert post.headers["Content-Type"] == "application/json"
        match = SIGNATURE.match(post.headers["X-Paygate-Signature"])
        assert match is not None
        timestamp, digest = match.groups()
        assert int(timestamp) == int(gateway.clock.now().timestamp())
        secret = gateway.merchants[merchant_id].webhook_secret.encode()
        expected = hmac.new(secret, f"{timestamp}.".encode() + post.body, hashlib.sha256)
        assert hmac.compare_digest(digest, expected.hexdigest())

    async def test_the_delivery_is_sent_in_the_trace_that_wrote_the_event(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        event = await one_event(gateway, merchant_id)
        traceparent = f"00-{'ab' * 16}-{'cd' * 8}-01"
        stored(gateway, event).traceparent = traceparent

        await gateway.deliver_webhooks()

        [post] = gateway.sender.posts
        assert post.traceparent == traceparent

    def test_sign_webhook_matches_a_known_vector(self) -> None:
        body = b'{"id":"evt_1"}'
        digest = hmac.new(b"whsec", b'1700000000.{"id":"evt_1"}', hashlib.sha256).hexdigest()
        assert sign_webhook("whsec", body, 1700000000) == f"t=1700000000,v1={digest}"

    @pytest.mark.parametrize("status", [200, 201, 204, 299])
    async def test_any_2xx_is_delivered(
        self, gateway: Gateway, merchant_id: str, status: int
    ) -> None:
        event = await one_event(gateway, merchant_id)
        gateway.sender.answer(status)
        gateway.clock.advance(seconds=1)

        counts = await gateway.deliver_webhooks()

        assert counts == {"delivered": 1, "retrying": 0, "dead": 0}
        after = stored(gateway, event)
        assert (after.status, after.attempts, after.last_error) == (
            WebhookStatus.DELIVERED,
            1,
            None,
        )
        assert after.delivered_at == gateway.clock.now()
        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 0, "dead": 0}
        assert len(gateway.sender.posts) == 1

    @pytest.mark.parametrize("status", [500, 503, 404, 301, 199])
    async def test_anything_else_is_retried_after_the_first_wait(
        self, gateway: Gateway, merchant_id: str, status: int
    ) -> None:
        event = await one_event(gateway, merchant_id)
        gateway.sender.answer(status)

        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 1, "dead": 0}

        after = stored(gateway, event)
        assert (after.status, after.attempts, after.last_error) == (
            WebhookStatus.PENDING,
            1,
            f"HTTP {status}",
        )
        assert after.next_attempt_at == gateway.clock.now() + RETRY_SCHEDULE[0]

    async def test_retries_follow_the_schedule(self, gateway: Gateway, merchant_id: str) -> None:
        event = await one_event(gateway, merchant_id)
        gateway.sender.answer(500, 500, 500)
        await gateway.deliver_webhooks()

        gateway.clock.advance(seconds=9)
        await gateway.deliver_webhooks()
        assert len(gateway.sender.posts) == 1  # not due yet

        gateway.clock.advance(seconds=1)
        await gateway.deliver_webhooks()
        assert len(gateway.sender.posts) == 2
        assert stored(gateway, event).next_attempt_at == gateway.clock.now() + timedelta(seconds=30)

        gateway.clock.advance(seconds=30)
        await gateway.deliver_webhooks()
        assert stored(gateway, event).next_attempt_at == gateway.clock.now() + timedelta(seconds=60)
        gateway.clock.advance(seconds=60)
        await gateway.deliver_webhooks()
        assert stored(gateway, event).status is WebhookStatus.DELIVERED
        assert stored(gateway, event).attempts == 4

    async def test_an_event_is_dead_after_about_a_day_of_failures(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        event = await one_event(gateway, merchant_id)
        started = gateway.clock.now()
        gateway.sender.answer(*[500] * 100)

        for wait in RETRY_SCHEDULE:
            assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 1, "dead": 0}
            gateway.clock.advance(seconds=wait.total_seconds())
        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 0, "dead": 1}

        after = stored(gateway, event)
        assert (after.status, after.attempts) == (WebhookStatus.DEAD, len(RETRY_SCHEDULE) + 1)
        assert timedelta(hours=23) < gateway.clock.now() - started < timedelta(hours=25)
        gateway.clock.advance(days=2)
        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 0, "dead": 0}
        assert len(gateway.sender.posts) == len(RETRY_SCHEDULE) + 1

    async def test_a_network_error_is_recorded_and_retried(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        event = await one_event(gateway, merchant_id)
        gateway.sender.answer(ConnectionRefusedError("connection refused"))
        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 1, "dead": 0}
        assert stored(gateway, event).last_error == "ConnectionRefusedError: connection refused"

    async def test_an_unreadable_secret_is_recorded_and_nothing_is_sent(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        event = await one_event(gateway, merchant_id)
        gateway.db.merchants[merchant_id].webhook_secret_sealed = "garbage"
        assert await gateway.deliver_webhooks() == {"delivered": 0, "retrying": 1, "dead": 0}
        assert stored(gateway, event).last_error == "ValueError: not sealed by this vault"
        assert gateway.sender.posts == []

    async def test_an_event_of_an_unknown_merchant_is_still_attempted(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        event = await one_event(gateway, merchant_id)
        del gateway.db.merchants[merchant_id]
        assert await gateway.deliver_webhooks() == {"delivered": 1, "retrying": 0, "dead": 0}
        assert gateway.sender.posts[0].body == event.body.encode()

    async def test_one_run_delivers_at_most_one_batch_oldest_first(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        for _ in range(3):
            await gateway.pay(merchant_id, notify_url=HOOK)
            await gateway.publish_events()
            gateway.clock.advance(seconds=1)
        oldest = [
            gateway.db.events[d.event_id]
            for d in sorted(gateway.db.deliveries.values(), key=lambda d: d.created_at)[:2]
        ]
        deliver = DeliverWebhooks(
            gateway.uow, gateway.clock, gateway.vault, gateway.sender, batch=2
        )
        assert await deliver() == {"delivered": 2, "retrying": 0, "dead": 0}
        assert [p.body for p in gateway.sender.posts] == [e.body.encode() for e in oldest]

    async def test_claimed_events_are_leased_so_another_worker_skips_them(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        event = await one_event(gateway, merchant_id)
        other_worker_counts: list[dict[str, int]] = []

        async def other_worker_runs_meanwhile() -> None:
            other_worker_counts.append(await gateway.deliver_webhooks())

        gateway.sender.during_post = other_worker_runs_meanwhile
        await gateway.deliver_webhooks()

        assert other_worker_counts == [{"delivered": 0, "retrying": 0, "dead": 0}]
        assert stored(gateway, event).status is WebhookStatus.DELIVERED


class TestRetryWebhook:
    async def test_a_dead_event_is_sent_again_now(self, gateway: Gateway, merchant_id: str) -> None:
        event = await one_event(gateway, merchant_id)
        gateway.db.deliveries[event.delivery_id].status = WebhookStatus.DEAD
        gateway.clock.advance(days=3)

        [retried] = await gateway.retry_webhook(event.event_id)

        assert (retried.status, retried.next_attempt_at) == (
            WebhookStatus.PENDING,
            gateway.clock.now(),
        )
        assert stored(gateway, event) == retried
        assert await gateway.deliver_webhooks() == {"delivered": 1, "retrying": 0, "dead": 0}
        assert gateway.sender.posts[0].body == event.body.encode()

    async def test_an_event_without_deliveries_is_not_found(self, gateway: Gateway) -> None:
        with pytest.raises(NotFound, match="evt_missing"):
            await gateway.retry_webhook("evt_missing")
