"""The split-out services (risk, order, channel) answer only the gateway when they share a
token with it: the channel service carries card numbers and moves money, and the network
inside a cluster is not a password."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar, get

from entrypoints.services.common import service_app
from entrypoints.settings import Settings
from entrypoints.wiring import service_headers


@get("/v1/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    return {"pong": "yes"}


async def call(app: Litestar, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.get(path, headers=headers)


@pytest.fixture
def guarded() -> Litestar:
    return service_app([ping], token="s3cret-token")


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"},
    {"Authorization": "Basic s3cret-token"}, {"Authorization": "Bearer s3cret-token2"},
])
async def test_a_call_without_the_token_is_401_and_never_reaches_the_handler(
    guarded: Litestar, headers: dict[str, str]
) -> None:
    response = await call(guarded, "/v1/ping", **headers)
    assert response.status_code == 401
    assert response.json() == {"error": "a valid service token is required"}


async def test_the_token_lets_the_call_in(guarded: Litestar) -> None:
    response = await call(guarded, "/v1/ping", Authorization="Bearer s3cret-token")
    assert (response.status_code, response.json()) == (200, {"pong": "yes"})


async def test_the_liveness_probe_needs_no_token(guarded: Litestar) -> None:
    assert (await call(guarded, "/health/live")).status_code == 200


async def test_without_a_token_configured_the_service_answers_anyone() -> None:
    assert (await call(service_app([ping]), "/v1/ping")).status_code == 200


def test_the_gateway_sends_the_token_it_is_given() -> None:
    assert service_headers(Settings(service_token="s3cret-token")) == {
        "Authorization": "Bearer s3cret-token"}
    assert service_headers(Settings()) == {}


def test_the_token_never_shows_in_the_settings_repr() -> None:
    assert "s3cret-token" not in repr(Settings(service_token="s3cret-token"))




async def test_the_readiness_probe_needs_no_token_and_reports_each_check() -> None:
    async def database() -> tuple[bool, str]:
        return True, "reachable"

    app = service_app([ping], token="s3cret-token", readiness={"database": database})
    response = await call(app, "/health/ready")
    assert (response.status_code, response.json()) == (
        200, {"status": "ok", "checks": {"database": {"ok": True, "detail": "reachable"}}})


async def test_a_service_whose_database_is_down_is_not_ready() -> None:
    async def database() -> tuple[bool, str]:
        raise ConnectionRefusedError("connection refused")

    response = await call(service_app([ping], readiness={"database": database}), "/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == {
        "ok": False, "detail": "ConnectionRefusedError: connection refused"}


async def test_a_service_with_nothing_to_check_is_ready() -> None:
    response = await call(service_app([ping]), "/health/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "checks": {}})


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
async def test_the_probes_answer_head_without_the_token(guarded: Litestar, path: str) -> None:
    transport = httpx.ASGITransport(app=guarded)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        response = await client.head(path)
    assert (response.status_code, response.content) == (200, b"")
