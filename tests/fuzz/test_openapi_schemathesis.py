"""Schema-driven fuzzing of the whole HTTP API, in process, on a fresh SQLite file.

Every operation of `/schema/openapi.json` gets generated requests; merchant routes are
signed over the exact bytes sent (so they pass authentication and reach the handlers), and
admin routes carry the bearer token. No answer may be a 5xx, and every answer must match
what the document promises (status code, content type, body schema).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.persistence import upgrade_database
from adapters.platform.vault import create_key_file
from entrypoints.cli.signing import signed_headers
from entrypoints.container import build_container, close_container
from entrypoints.http.factory import build_http_app
from entrypoints.settings import Settings

BASE_URL = "http://paygate.test"
ADMIN_TOKEN = "admin-token-for-the-fuzz-suite"
EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Target:
    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    schema: Any
    api_key: str
    api_secret: str
    container: Any
    statuses: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def send(self, case: Any) -> httpx.Response:
        sent = case.as_transport_kwargs(base_url=BASE_URL)
        raw: bytes = sent.get("data") or b""
        if "json" in sent:
            raw = json.dumps(sent["json"], separators=(",", ":")).encode()
        elif isinstance(raw, str):
            raw = raw.encode()
        url = urlsplit(sent["url"])
        query = urlencode(sent.get("params") or {}, doseq=True)
        target = url.path + (f"?{query}" if query else "")
        headers = {
            k: v
            for k, v in sent["headers"].items()
            if k.lower() not in ("x-api-key", "x-signature", "x-timestamp", "authorization")
        }
        if target.startswith("/api/v1/") and "/channels/" not in target:
            method = sent["method"].upper()
            headers.update(signed_headers(self.api_key, self.api_secret, method, target, raw))
        elif target.startswith("/admin/"):
            headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        request = self.client.request(
            sent["method"], f"{BASE_URL}{target}", content=raw or None, headers=headers
        )
        return self.loop.run_until_complete(asyncio.wait_for(request, timeout=10))


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{workdir / 'paygate.db'}"
    upgrade_database(url)
    create_key_file(workdir / "paygate.key")  # provisioned, as a deployment's secret is
    settings_ = Settings(
        database_url=url,
        admin_token=ADMIN_TOKEN,
        master_key_file=workdir / "paygate.key",
        worker=False,
        tracing=False,
        rate_limit_per_second=100_000,
        rate_limit_burst=100_000,
    )
    loop = asyncio.new_event_loop()
    container = build_container(settings_)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build_http_app(container)), base_url=BASE_URL
    )
    try:
        created = loop.run_until_complete(
            client.post(
                "/admin/v1/merchants",
                content=json.dumps({"name": "Fuzz Ltd"}).encode(),
                headers={
                    "Authorization": f"Bearer {ADMIN_TOKEN}",
                    "Content-Type": "application/json",
                },
            )
        )
        assert created.status_code == 201, created.text
        document = loop.run_until_complete(client.get("/schema/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(document)
        keys = created.json()
        yield Target(loop, client, schema, keys["api_key"], keys["api_secret"], container)
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(close_container(container))
        loop.close()


OPERATIONS = [
    ("GET", "/api/v1/payments"),
    ("POST", "/api/v1/payments"),
    ("GET", "/api/v1/payments/{payment_no}"),
    ("GET", "/api/v1/payments/{payment_no}/refunds"),
    ("POST", "/api/v1/payments/{payment_no}/refunds"),
    ("POST", "/api/v1/payments/{payment_no}/capture"),
    ("POST", "/api/v1/payments/{payment_no}/cancel"),
    ("GET", "/api/v1/refunds/{refund_no}"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/events/{event_id}"),
    ("GET", "/api/v1/events/{event_id}/deliveries"),
    ("POST", "/api/v1/events/{event_id}/redeliver"),
    ("GET", "/api/v1/webhook_endpoints"),
    ("POST", "/api/v1/webhook_endpoints"),
    ("GET", "/api/v1/webhook_endpoints/{endpoint_id}"),
    ("DELETE", "/api/v1/webhook_endpoints/{endpoint_id}"),
    ("POST", "/api/v1/webhook_endpoints/{endpoint_id}/rotate_secret"),
    ("POST", "/api/v1/channels/{channel}/notifications"),
    ("POST", "/admin/v1/merchants"),
    ("POST", "/admin/v1/payments/{payment_no}/review"),
    ("POST", "/admin/v1/payments/{payment_no}/refunds"),
    ("POST", "/admin/v1/payments/{payment_no}/capture"),
    ("POST", "/admin/v1/payments/{payment_no}/cancel"),
    ("GET", "/admin/v1/settlements"),
    ("POST", "/admin/v1/settlements"),
    ("GET", "/admin/v1/audit"),
    ("GET", "/admin/v1/merchants/{merchant_id}/routing"),
    ("PUT", "/admin/v1/merchants/{merchant_id}/routing"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("HEAD", "/health/live"),
    ("HEAD", "/health/ready"),
]


def test_every_operation_of_the_document_is_fuzzed(target: Target) -> None:
    documented = {
        (found.ok().method.upper(), found.ok().path) for found in target.schema.get_all_operations()
    }
    assert set(OPERATIONS) <= documented
    assert documented - set(OPERATIONS) <= {("GET", "/metrics")}, documented


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_generated_requests_get_no_5xx_and_conform_to_the_schema(
    target: Target, method: str, path: str
) -> None:
    [operation] = [
        found.ok()
        for found in target.schema.get_all_operations()
        if (found.ok().method.upper(), found.ok().path) == (method, path)
    ]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def fuzz(case: Any) -> None:
        response = target.send(case)
        target.statuses.setdefault((method, path), set()).add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    fuzz()


def test_signed_and_admin_requests_got_past_authentication(target: Target) -> None:
    """Runs after the fuzzing: the signing hook works, so the handlers were exercised."""
    seen = target.statuses
    assert 200 in seen.get(("GET", "/api/v1/payments"), set()), seen
    assert 201 in seen.get(("POST", "/admin/v1/merchants"), set()), seen
    assert any(codes - {401, 403} for codes in seen.values()), seen


POST_BODIES = {
    "refunds": b'{"amount":1}',
    "capture": b'{"amount_to_capture":1}',
    "cancel": b'{"reason":"sweep"}',
}
"""A valid body for the object routes that take one; the others are sent `{}`."""


def call(target: Target, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
    request = target.client.request(method, path, content=body or None, headers=headers)
    return target.loop.run_until_complete(asyncio.wait_for(request, timeout=10))


def test_every_object_route_in_the_document_hides_another_merchants_objects(
    target: Target,
) -> None:
    """Derived from the document, so a route added later is swept too (the HTTP suite
    names today's routes one by one)."""
    owner = call(
        target,
        "POST",
        "/admin/v1/merchants",
        {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        b'{"name":"Owner Ltd"}',
    ).json()
    body = json.dumps(
        {
            "order_no": "SWEEP-1",
            "amount": 5000,
            "currency": "USD",
            "channel": "sandbox",
            "payment_method": {
                "type": "card",
                "number": "4242424242424242",
                "exp_month": 12,
                "exp_year": 2030,
                "cvc": "123",
            },
        }
    ).encode()

    def as_owner(method: str, path: str, raw: bytes) -> Any:
        signed = signed_headers(owner["api_key"], owner["api_secret"], method, path, raw)
        return call(target, method, path, {**signed, "Content-Type": "application/json"}, raw)

    payment_no = as_owner("POST", "/api/v1/payments", body).json()["payment_no"]
    refund = as_owner("POST", f"/api/v1/payments/{payment_no}/refunds", b'{"amount":100}')
    hook = b'{"url":"https://93.184.216.34/hooks","events":["*"]}'
    endpoint = as_owner("POST", "/api/v1/webhook_endpoints", hook).json()
    target.loop.run_until_complete(target.container.use_cases.publish_events()())
    events = as_owner("GET", "/api/v1/events", b"").json()["data"]
    ids = {"payment_no": payment_no, "refund_no": refund.json()["refund_no"],
           "event_id": events[0]["id"], "endpoint_id": endpoint["id"]}
    swept = []
    for method, template in OPERATIONS:
        if not template.startswith("/api/v1/") or "{" not in template or "channel" in template:
            continue
        path = template.format(**ids)
        raw = POST_BODIES.get(template.rsplit("/", 1)[1], b"{}") if method == "POST" else b""
        signed = signed_headers(target.api_key, target.api_secret, method, path, raw)
        response = call(target, method, path, {**signed, "Content-Type": "application/json"}, raw)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
        swept.append((method, template))
    assert len(swept) == 12, swept
    kept = as_owner("GET", f"/api/v1/payments/{payment_no}", b"").json()
    assert kept["refunded_amount"] == 100, kept
    still = as_owner("GET", f"/api/v1/webhook_endpoints/{endpoint['id']}", b"")
    assert still.status_code == 200, still.text


@pytest.mark.parametrize("token", [None, "", "wrong", f"{ADMIN_TOKEN}x"])
def test_every_admin_route_in_the_document_needs_the_token(
    target: Target, token: str | None
) -> None:
    admin = [(m, p) for m, p in OPERATIONS if p.startswith("/admin/")]
    for method, template in admin:
        path = template.format(payment_no="pay_x", merchant_id="mch_x")
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        raw = b'{"name":"x"}' if method == "POST" else b""
        response = call(target, method, path, headers, raw)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "unauthenticated"
    assert len(admin) == 10


@pytest.mark.parametrize("digits", [13, 400, 5_000])
def test_an_absurdly_long_timestamp_is_unauthenticated_not_a_500(
    target: Target, digits: int
) -> None:
    signed = signed_headers(target.api_key, target.api_secret, "GET", "/api/v1/payments", b"")
    headers = {**signed, "X-Timestamp": "9" * digits}

    response = call(target, "GET", "/api/v1/payments", headers, b"")

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"
