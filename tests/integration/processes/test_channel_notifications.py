"""Signed sandbox notifications sent over real HTTP to a running `paygate serve`.

A good one settles a `processing` payment; the same one again is acknowledged and changes
nothing; a bad signature, a stale timestamp or a body changed after signing is refused with
400 and changes nothing either.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from gateway_client import CARD_UNKNOWN, SANDBOX_SECRET, Deployment, Keys

from adapters.channel.sandbox_notifications import sign_sandbox_notification
from application.ports.channel import ChannelEvent

pytestmark = pytest.mark.slow

NOTIFICATIONS = "/api/v1/channels/sandbox/notifications"
TOLERANCE_SECONDS = 300


def signed(
    payment_no: str,
    *,
    kind: str = "charge.succeeded",
    secret: str = SANDBOX_SECRET,
    age: int = 0,
    event_id: str = "evt_sandbox_1",
) -> tuple[bytes, dict[str, str]]:
    event = ChannelEvent(event_id, kind, payment_no, None)
    return sign_sandbox_notification(event, secret, int(time.time()) - age)


class Scene:
    """A merchant's `processing` payment on the shared gateway, and what it looks like."""

    def __init__(self, gateway: Deployment, order_no: str) -> None:
        self.gateway = gateway
        self.keys: Keys = gateway.api.new_merchant(f"Notified {order_no}")
        payment = gateway.api.pay(self.keys, order_no, card=CARD_UNKNOWN)
        assert payment["status"] == "processing", payment
        self.payment_no: str = payment["payment_no"]

    def notify(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.gateway.api.http.post(NOTIFICATIONS, content=body, headers=headers)

    def state(self) -> tuple[dict[str, Any], int, int]:
        """The payment as the API shows it, and the rows a settlement would write."""
        rows = self.gateway.rows
        return (
            self.gateway.api.payment(self.keys, self.payment_no),
            rows.count("ledger_entries"),
            rows.waiting_entries() + rows.count("events"),
        )


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_signed_success_settles_the_payment_and_a_repeat_changes_nothing(
    gateway_without_worker: Deployment,
) -> None:
    scene = Scene(gateway_without_worker, "NOTE-OK")
    body, headers = signed(scene.payment_no)

    first = scene.notify(body, headers)
    settled = scene.state()
    again = scene.notify(body, headers)

    assert first.status_code == 200, first.text
    assert first.json() == {"received": True}
    assert settled[0]["status"] == "succeeded"
    assert again.status_code == 200, again.text
    assert scene.state() == settled


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda no: signed(no, secret="not-the-sandbox-secret"), id="bad-signature"),
        pytest.param(lambda no: signed(no, age=TOLERANCE_SECONDS + 60), id="stale-timestamp"),
        pytest.param(
            lambda no: tampered(*signed(no, kind="charge.failed")), id="body-changed-after-signing"
        ),
    ],
)
def test_a_notification_that_fails_verification_is_refused_and_changes_nothing(
    gateway_without_worker: Deployment, forge: Any
) -> None:
    scene = Scene(gateway_without_worker, "NOTE-FORGED")
    before = scene.state()

    response = scene.notify(*forge(scene.payment_no))

    assert_refused(response)
    assert scene.state() == before
    assert before[0]["status"] == "processing"


def tampered(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The signature of a `charge.failed`, on a body that now says `charge.succeeded`."""
    changed = body.replace(b'"charge.failed"', b'"charge.succeeded"')
    assert changed != body
    return changed, headers
