"""The canonical log line: one JSON line per API request, with what operators look for,
including the requests that went wrong (declines, risk rejections, refused refunds, 401s,
409s, admin refusals) whatever PAYGATE_ACCESS_LOG says."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from http_harness import (
    CARD_DECLINED,
    CARD_RISK_REJECT,
    Api,
    ApiFactory,
    Keys,
    encode,
    payment_body,
)

from domain.operator import BOOTSTRAP_ACTOR
from entrypoints.cli.signing import signed_headers
from observability.logging import json_handler

PAYMENTS = "/api/v1/payments"
CARD = "4242424242424242"


class Lines:
    """The JSON lines written to the `paygate.access` logger."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def one(self) -> dict[str, Any]:
        [line] = self.all()
        return line

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture
def lines() -> Iterator[Lines]:
    written = Lines()
    logger = logging.getLogger("paygate.access")
    handler = json_handler(written.stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield written
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


@pytest.fixture
async def quiet(open_api: ApiFactory, http_sqlite_url: str) -> Api:
    """A gateway with PAYGATE_ACCESS_LOG=off: only the problems are written."""
    return await open_api(http_sqlite_url, access_log="off")


async def test_a_payment_is_one_info_line_with_its_numbers_and_trace(
    api: Api, merchant: Keys, lines: Lines
) -> None:
    lines.clear()
    response = await api.call(merchant, "POST", PAYMENTS, payment_body("ORDER-LOGGED"))

    line = lines.one()
    assert line["level"] == "INFO"
    assert line["logger"] == "paygate.access"
    assert (line["http_method"], line["route"], line["status"]) == ("POST", PAYMENTS, 201)
    assert line["merchant_id"] == merchant.merchant_id
    assert line["payment_no"] == response.json()["payment_no"]
    assert line["outcome"] == "succeeded"
    assert line["error_code"] is None
    assert line["duration_ms"] > 0
    assert line["trace_id"] == response.headers["x-trace-id"]
    assert line["span_id"]


async def test_a_read_names_the_payment_of_its_route_template(
    api: Api, merchant: Keys, lines: Lines
) -> None:
    paid = await api.pay(merchant)
    lines.clear()

    await api.call(merchant, "GET", f"{PAYMENTS}/{paid['payment_no']}")

    line = lines.one()
    assert line["route"] == "/api/v1/payments/{payment_no}"
    assert line["payment_no"] == paid["payment_no"]


async def test_a_refund_names_its_payment_and_itself(
    api: Api, merchant: Keys, lines: Lines
) -> None:
    paid = await api.pay(merchant)
    lines.clear()

    refund = (await api.refund(merchant, paid["payment_no"], {"amount": 100})).json()

    line = lines.one()
    assert line["route"] == "/api/v1/payments/{payment_no}/refunds"
    assert (line["payment_no"], line["refund_no"]) == (paid["payment_no"], refund["refund_no"])


@pytest.mark.parametrize(("card", "outcome", "failure_code"), [
    (CARD_DECLINED, "failed", "card_declined"),
    (CARD_RISK_REJECT, "rejected", "risk_rejected"),
])
async def test_declines_and_risk_rejections_are_written_even_with_the_log_off(
    quiet: Api, lines: Lines, card: str, outcome: str, failure_code: str
) -> None:
    keys = await quiet.new_merchant()
    lines.clear()

    await quiet.call(keys, "POST", PAYMENTS, payment_body("ORDER-NO", card=card))

    line = lines.one()
    assert (line["status"], line["outcome"], line["failure_code"]) == (201, outcome, failure_code)


async def test_with_the_log_off_a_payment_that_went_well_is_not_written(
    quiet: Api, lines: Lines
) -> None:
    keys = await quiet.new_merchant()
    lines.clear()

    await quiet.pay(keys)

    assert lines.all() == []


async def test_a_refused_refund_and_a_duplicate_order_are_written_with_their_codes(
    quiet: Api, lines: Lines
) -> None:
    keys = await quiet.new_merchant()
    paid = await quiet.pay(keys, "ORDER-ONE")
    lines.clear()

    await quiet.refund(keys, paid["payment_no"], {"amount": 1_000_000})
    await quiet.call(keys, "POST", PAYMENTS, payment_body("ORDER-ONE", description="again"))

    refused, duplicate = lines.all()
    assert (refused["status"], refused["error_code"], refused["level"]) == (
        422, "amount_exceeded", "INFO")
    assert refused["payment_no"] == paid["payment_no"]
    assert (duplicate["status"], duplicate["error_code"]) == (409, "duplicate_order")


async def test_a_wrong_signature_is_a_warning_without_a_merchant(
    quiet: Api, lines: Lines
) -> None:
    keys = await quiet.new_merchant()
    forged = Keys(keys.merchant_id, keys.api_key, "not-the-secret", keys.webhook_secret)
    lines.clear()

    await quiet.call(forged, "GET", PAYMENTS)

    line = lines.one()
    assert (line["level"], line["status"], line["error_code"]) == (
        "WARNING", 401, "unauthenticated")
    assert line["merchant_id"] is None


async def test_a_replayed_request_is_a_warning_naming_the_merchant_it_concerns(
    quiet: Api, lines: Lines
) -> None:
    keys = await quiet.new_merchant()
    raw = encode(payment_body("ORDER-TWICE"))
    headers = {**signed_headers(keys.api_key, keys.api_secret, "POST", PAYMENTS, raw),
               "Content-Type": "application/json"}
    await quiet.client.post(PAYMENTS, content=raw, headers=headers)
    lines.clear()

    await quiet.client.post(PAYMENTS, content=raw, headers=headers)

    line = lines.one()
    assert (line["level"], line["status"], line["error_code"]) == (
        "WARNING", 401, "unauthenticated")
    assert line["merchant_id"] == keys.merchant_id


@pytest.mark.parametrize(("token", "body", "status"), [
    ("guessed-token", {"name": "A"}, 401),
    (None, {"name": "A"}, 401),
    ("admin-token-for-the-http-suite", {"name": ""}, 422),
])
async def test_every_admin_refusal_is_a_warning(
    quiet: Api, lines: Lines, token: str | None, body: Any, status: int
) -> None:
    lines.clear()

    await quiet.admin("POST", "/admin/v1/merchants", body, token=token)

    line = lines.one()
    assert (line["level"], line["status"], line["route"]) == (
        "WARNING", status, "/admin/v1/merchants")


async def test_probes_are_not_written_and_an_unknown_path_is_unmatched(
    api: Api, lines: Lines
) -> None:
    lines.clear()

    await api.client.get("/health/live")
    await api.client.get("/health/ready")
    await api.client.get("/no/such/place")

    line = lines.one()
    assert (line["route"], line["status"], line["error_code"]) == ("unmatched", 404, "not_found")


async def test_text_a_merchant_put_in_the_path_never_reaches_the_line(
    api: Api, merchant: Keys, lines: Lines
) -> None:
    lines.clear()

    await api.call(merchant, "GET", f"{PAYMENTS}/{CARD}")

    line = lines.one()
    assert line["payment_no"] is None
    assert CARD not in json.dumps(line)


async def test_sampling_keeps_no_line_without_a_problem_at_rate_zero(
    open_api: ApiFactory, http_sqlite_url: str, lines: Lines
) -> None:
    sampled = await open_api(http_sqlite_url, access_log="sample:0")
    keys = await sampled.new_merchant()
    lines.clear()

    await sampled.pay(keys)
    await sampled.call(keys, "GET", f"{PAYMENTS}/pay_missing")

    [line] = lines.all()
    assert line["status"] == 404


async def test_an_admin_line_names_the_operator_and_a_refusal_is_a_warning_naming_it(
    api: Api, merchant: Keys, lines: Lines
) -> None:
    create = api.container.use_cases.create_operator()
    otto = (await create(BOOTSTRAP_ACTOR, "otto", "operator")).token
    paid = await api.pay(merchant)
    lines.clear()

    refunded = await api.admin("POST", f"{PAYMENTS}/{paid['payment_no']}/refunds".replace(
        "/api/", "/admin/"), {"amount": 100}, token=otto)
    refused = await api.admin("POST", "/admin/v1/merchants", {"name": "X"}, token=otto)

    done, forbidden = lines.all()
    assert refunded.status_code == 201, refunded.text
    assert (done["operator"], done["operator_role"], done["level"]) == ("otto", "operator", "INFO")
    assert refused.status_code == 403
    assert (forbidden["operator"], forbidden["level"], forbidden["error_code"]) == (
        "otto", "WARNING", "forbidden")
