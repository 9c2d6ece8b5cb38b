"""A webhook endpoint: what it wants, and which secrets sign for it during a rollover."""

from __future__ import annotations

from datetime import timedelta

from domain.events import Subscription
from domain.webhook_endpoint import ROLLOVER, WebhookEndpoint
from tests.unit.domain.builders import LATER, T0


def endpoint(*types: str) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id="we_1",
        merchant_id="mch_1",
        url="https://hooks.merchant.example/in",
        subscription=Subscription.of(list(types) or ["*"]),
        secret_sealed="sealed-1",
        created_at=T0,
    )


class TestWebhookEndpoint:
    def test_it_wants_what_it_subscribed_to(self) -> None:
        hooked = endpoint("payment.succeeded")
        assert hooked.wants("payment.succeeded")
        assert not hooked.wants("refund.succeeded")

    def test_a_deleted_endpoint_wants_nothing(self) -> None:
        hooked = endpoint("*")
        hooked.delete(LATER)
        assert hooked.deleted_at == LATER
        assert not hooked.active
        assert not hooked.wants("payment.succeeded")

    def test_a_new_endpoint_signs_with_its_one_secret(self) -> None:
        assert endpoint().signing_secrets(T0) == ["sealed-1"]

    def test_after_a_rotation_both_secrets_sign_newest_first(self) -> None:
        hooked = endpoint()
        hooked.rotate("sealed-2", LATER)
        assert hooked.secret_sealed == "sealed-2"
        assert hooked.signing_secrets(LATER) == ["sealed-2", "sealed-1"]
        assert hooked.previous_expires_at == LATER + ROLLOVER

    def test_the_old_secret_signs_until_just_before_24_hours(self) -> None:
        hooked = endpoint()
        hooked.rotate("sealed-2", T0)
        assert timedelta(hours=24) == ROLLOVER
        almost = T0 + ROLLOVER - timedelta(microseconds=1)
        assert hooked.signing_secrets(almost) == ["sealed-2", "sealed-1"]
        assert hooked.signing_secrets(T0 + ROLLOVER) == ["sealed-2"]

    def test_a_second_rotation_drops_the_oldest_secret(self) -> None:
        hooked = endpoint()
        hooked.rotate("sealed-2", T0)
        hooked.rotate("sealed-3", LATER)
        assert hooked.signing_secrets(LATER) == ["sealed-3", "sealed-2"]

    def test_repr_leaves_out_the_sealed_secrets(self) -> None:
        hooked = endpoint()
        hooked.rotate("sealed-2", T0)
        assert "sealed-1" not in repr(hooked)
        assert "sealed-2" not in repr(hooked)
