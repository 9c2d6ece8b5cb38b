"""A signed request that changes something is accepted once (contract, Merchant
authentication): the same bytes again are `401 unauthenticated` and move no money, unless
they carry the first request's Idempotency-Key; a 503 gives the signature back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from dependency_injector import providers
from http_harness import Api, ApiFactory, Keys, assert_error, encode, payment_body

from application.errors import Unavailable
from application.ports.external import RiskRequest
from domain.risk import RiskDecision
from entrypoints.cli.signing import signed_headers
from entrypoints.container import Container
from entrypoints.edge.replay import ReplayGuard

PAYMENTS = "/api/v1/payments"


def signed(keys: Keys, target: str, body: Any, **extra: str) -> tuple[bytes, dict[str, str]]:
    raw = encode(body)
    headers = signed_headers(keys.api_key, keys.api_secret, "POST", target, raw)
    return raw, {**headers, "Content-Type": "application/json", **extra}


async def send(api: Api, target: str, raw: bytes, headers: dict[str, str]) -> httpx.Response:
    return await api.client.post(target, content=raw, headers=headers)


def assert_already_used(response: httpx.Response) -> None:
    error = assert_error(response, 401, "unauthenticated")
    assert "signature already used" in error["message"]


async def test_a_signed_refund_sent_three_times_refunds_once(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant)
    target = f"{PAYMENTS}/{payment['payment_no']}/refunds"
    raw, headers = signed(merchant, target, {"amount": 2_500})

    answers = [await send(api, target, raw, headers) for _ in range(3)]

    assert answers[0].status_code == 201, answers[0].text
    for replayed in answers[1:]:
        assert_already_used(replayed)
    assert (await api.counts())["refunds"] == 1
    seen = (await api.call(merchant, "GET", f"{PAYMENTS}/{payment['payment_no']}")).json()
    assert seen["refunded_amount"] == 2_500


async def test_the_signature_in_upper_case_is_the_same_signature(
    api: Api, merchant: Keys
) -> None:
    payment = await api.pay(merchant)
    target = f"{PAYMENTS}/{payment['payment_no']}/refunds"
    raw, headers = signed(merchant, target, {"amount": 100})

    first = await send(api, target, raw, headers)
    upper = {**headers, "X-Signature": headers["X-Signature"].upper()}
    shouted = await send(api, target, raw, upper)

    assert first.status_code == 201
    assert_already_used(shouted)
    assert (await api.counts())["refunds"] == 1


async def test_the_same_bytes_with_the_same_idempotency_key_get_the_first_answer(
    api: Api, merchant: Keys
) -> None:
    payment = await api.pay(merchant)
    target = f"{PAYMENTS}/{payment['payment_no']}/refunds"
    raw, headers = signed(merchant, target, {"amount": 2_500}, **{"Idempotency-Key": "r-1"})

    first = await send(api, target, raw, headers)
    again = await send(api, target, raw, headers)

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert (await api.counts())["refunds"] == 1


async def test_the_same_bytes_under_another_or_a_new_idempotency_key_are_refused(
    api: Api, merchant: Keys
) -> None:
    """The key is not signed: anybody who saw the request could add or change it."""
    payment = await api.pay(merchant)
    target = f"{PAYMENTS}/{payment['payment_no']}/refunds"
    raw, headers = signed(merchant, target, {"amount": 1_000})
    keyed = {**headers, "Idempotency-Key": "r-1"}

    assert (await send(api, target, raw, keyed)).status_code == 201
    assert_already_used(await send(api, target, raw, {**headers, "Idempotency-Key": "r-2"}))
    assert_already_used(await send(api, target, raw, headers))
    assert (await api.counts())["refunds"] == 1


async def test_a_replay_through_another_gateway_on_the_same_database_is_refused(
    open_api: ApiFactory, any_db_url: str
) -> None:
    first, second = await open_api(any_db_url), await open_api(any_db_url)
    keys = await first.new_merchant()
    payment = await first.pay(keys)
    target = f"{PAYMENTS}/{payment['payment_no']}/refunds"
    raw, headers = signed(keys, target, {"amount": 2_500})

    answered = await send(first, target, raw, headers)
    replayed = await send(second, target, raw, headers)

    assert answered.status_code == 201
    assert_already_used(replayed)
    assert (await first.counts())["refunds"] == 1


async def test_a_replayed_payment_is_refused_before_it_reaches_the_order_check(
    api: Api, merchant: Keys
) -> None:
    raw, headers = signed(merchant, PAYMENTS, payment_body("ORDER-ONCE"))

    assert (await send(api, PAYMENTS, raw, headers)).status_code == 201
    assert_already_used(await send(api, PAYMENTS, raw, headers))
    assert (await api.counts())["payments"] == 1


async def test_reading_is_not_spending(api: Api, merchant: Keys) -> None:
    headers = signed_headers(merchant.api_key, merchant.api_secret, "GET", PAYMENTS, b"")

    answers = [await api.client.get(PAYMENTS, headers=headers) for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 200]


async def test_an_idempotency_key_that_cannot_be_kept_is_422_and_spends_nothing(
    api: Api, merchant: Keys
) -> None:
    payment = await api.pay(merchant)
    target = f"{PAYMENTS}/{payment['payment_no']}/refunds"
    raw, headers = signed(merchant, target, {"amount": 100})

    too_long = await send(api, target, raw, {**headers, "Idempotency-Key": "k" * 256})
    plain = await send(api, target, raw, headers)

    assert_error(too_long, 422, "validation_error")
    assert plain.status_code == 201, plain.text


class DownOnceRisk:
    """The risk service is down for the first assessment, then answers."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.calls = inner, 0

    async def assess(self, request: RiskRequest) -> RiskDecision:
        self.calls += 1
        if self.calls == 1:
            raise Unavailable("the risk service did not answer")
        decision: RiskDecision = await self._inner.assess(request)
        return decision


async def test_a_request_answered_503_may_be_sent_again_as_it_was(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    def flaky_risk(container: Container) -> None:
        inner = container.gateways.risk()
        container.gateways.risk.override(providers.Object(DownOnceRisk(inner)))

    api = await open_api(http_sqlite_url, adapt=flaky_risk)
    keys = await api.new_merchant()
    raw, headers = signed(keys, PAYMENTS, payment_body("ORDER-RETRIED"))

    refused = await send(api, PAYMENTS, raw, headers)
    retried = await send(api, PAYMENTS, raw, headers)

    assert_error(refused, 503, "unavailable")
    assert retried.status_code == 201, retried.text
    assert (await api.counts())["payments"] == 1
    assert_already_used(await send(api, PAYMENTS, raw, headers))


async def test_signatures_past_their_window_are_purged_and_recent_ones_kept(
    api: Api, merchant: Keys
) -> None:
    payment = await api.pay(merchant)
    guard: ReplayGuard = api.container.core.replays()
    seven_minutes_on = ReplayGuard(guard.store, Later(api.container.core.clock(), minutes=7),
                                   guard.tolerance_seconds)

    kept = await guard.purge_expired()
    purged = await seven_minutes_on.purge_expired()

    assert kept == {"used_signatures_purged": 0}
    assert purged == {"used_signatures_purged": 1}  # the payment's
    assert (await api.counts())["payments"] == 1
    assert payment["status"] == "succeeded"


class Later:
    """Another clock's time, moved on."""

    def __init__(self, clock: Any, **by: float) -> None:
        self._clock, self._by = clock, timedelta(**by)

    def now(self) -> datetime:
        moment: datetime = self._clock.now() + self._by
        return moment
