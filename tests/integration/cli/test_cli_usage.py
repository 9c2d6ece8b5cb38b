"""Usage errors, `paygate sign`, and the installed console script in a real process."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_harness import Paygate, assert_clean_failure

from entrypoints.container import build_container, close_container
from entrypoints.http.factory import build_http_app

PAYGATE = Path(sys.executable).with_name("paygate")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("refunds", "create"), "Missing argument"),
        (("refunds", "create", "pay_x", "--amount", "ten"), "not a valid integer"),
        (("refunds", "create", "pay_x", "--colour", "red"), "No such option"),
        (("payments", "show"), "Missing argument"),
        (("payments", "review"), "Missing argument"),
        (("refunds", "create", "pay_x", "--reason", "r" * 501), "--reason"),
        (("payments", "review", "pay_x", "--reject", "--note", "n" * 501), "--note"),
        (("payments", "list", "--limit", "0"), "--limit"),
        (("payments", "list", "--limit", "101"), "--limit"),
        (("payments", "list", "--status", "paid"), "--status"),
        (("merchants", "create"), "--name"),
        (("merchants", "create", "--name", "A", "--fee-bps", "10001"), "--fee-bps"),
        (("merchants", "create", "--name", "A", "--fee-fixed", str(10**12)), "--fee-fixed"),
        (("merchants", "create", "--name", "A", "--fee-fixed", str(10**20)), "--fee-fixed"),
        (("settle", "--date", "23/11/2026"), "--date"),
        (("refund",), "No such command"),
    ],
)
def test_usage_errors_exit_2_and_touch_nothing(
    paygate: Paygate, args: tuple[str, ...], complaint: str
) -> None:
    before = paygate.counts()

    result = paygate(*args)

    assert_clean_failure(result, 2, complaint)
    assert paygate.counts() == before


@pytest.mark.parametrize(("setting", "value", "complaint"), [
    ("PAYGATE_DATABASE_URL", "nonsense", "PAYGATE_DATABASE_URL"),
    ("PAYGATE_DATABASE_URL", "mysql://paygate:s3cret@db/paygate", "postgresql+asyncpg"),
    ("PAYGATE_DATABASE_URL", "postgresql://paygate:s3cret@db/paygate", "postgresql+asyncpg"),
    ("PAYGATE_MASTER_KEY", "not base64!", "PAYGATE_MASTER_KEY"),
    ("PAYGATE_MASTER_KEY", "c2hvcnQ=", "PAYGATE_MASTER_KEY"),
    ("PAYGATE_RATE_LIMIT_PER_SECOND", "fast", "PAYGATE_RATE_LIMIT_PER_SECOND"),
    ("PAYGATE_WORKER", "maybe", "PAYGATE_WORKER"),
    ("PAYGATE_EVENT_RETENTION_DAYS", "0", "PAYGATE_EVENT_RETENTION_DAYS"),
    ("PAYGATE_EVENT_RETENTION_DAYS", "a month", "PAYGATE_EVENT_RETENTION_DAYS"),
])
@pytest.mark.parametrize("args", [("payments", "list"), ("merchants", "create", "--name", "A"),
                                  ("db", "upgrade")])
def test_a_setting_paygate_cannot_use_is_named_in_one_line_with_exit_2(
    paygate: Paygate, setting: str, value: str, complaint: str, args: tuple[str, ...]
) -> None:
    before = paygate.counts()
    misconfigured = Paygate({**paygate.env, setting: value})

    result = misconfigured(*args)

    assert_clean_failure(result, 2, "configuration", complaint)
    assert "s3cret" not in result.output
    assert paygate.counts() == before


class TestSign:
    def curl(self, paygate: Paygate, merchant: dict[str, Any], *args: str) -> list[str]:
        result = paygate(
            "sign", *args, "--key", merchant["api_key"], "--secret", merchant["api_secret"]
        )
        assert result.exit_code == 0, result.output
        return shlex.split(result.stdout)

    @staticmethod
    def headers_of(parts: list[str]) -> dict[str, str]:
        pairs = (parts[i + 1].split(": ", 1) for i, p in enumerate(parts) if p == "-H")
        return dict(pairs)

    def test_the_printed_signature_follows_the_contract(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        body = '{"order_no":"ORDER-SIGNED","amount":100}'

        parts = self.curl(paygate, merchant, "POST", "/api/v1/payments?x=1", "--data", body)

        headers = self.headers_of(parts)
        assert parts[:4] == ["curl", "-sS", "-X", "POST"]
        assert parts[4] == "http://127.0.0.1:8000/api/v1/payments?x=1"
        assert parts[parts.index("--data-raw") + 1] == body
        assert headers["X-API-Key"] == merchant["api_key"]
        assert abs(int(headers["X-Timestamp"]) - time.time()) < 60
        signed = f"{headers['X-Timestamp']}\nPOST\n/api/v1/payments?x=1\n{body}".encode()
        expected = hmac.new(merchant["api_secret"].encode(), signed, hashlib.sha256).hexdigest()
        assert headers["X-Signature"] == expected

    def test_a_delete_is_signed_with_its_method(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        parts = self.curl(paygate, merchant, "delete", "/api/v1/webhook_endpoints/we_1")

        headers = self.headers_of(parts)
        assert parts[:4] == ["curl", "-sS", "-X", "DELETE"]
        signed = f"{headers['X-Timestamp']}\nDELETE\n/api/v1/webhook_endpoints/we_1\n".encode()
        expected = hmac.new(merchant["api_secret"].encode(), signed, hashlib.sha256).hexdigest()
        assert headers["X-Signature"] == expected

    def test_the_gateway_accepts_what_sign_prints(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        body = (
            '{"order_no":"ORDER-SIGNED","amount":1500,"currency":"USD","channel":"sandbox",'
            '"payment_method":{"type":"card","number":"4242424242424242","exp_month":12,'
            '"exp_year":2030,"cvc":"123"}}'
        )
        post = self.curl(paygate, merchant, "POST", "/api/v1/payments", "--data", body)
        get = self.curl(paygate, merchant, "GET", "/api/v1/payments?limit=5")

        async def send() -> tuple[httpx.Response, httpx.Response]:
            container = build_container(paygate.settings())
            transport = httpx.ASGITransport(app=build_http_app(container))
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
                    created = await client.post(
                        "/api/v1/payments", content=body, headers=self.headers_of(post)
                    )
                    listed = await client.get(
                        "/api/v1/payments?limit=5", headers=self.headers_of(get)
                    )
                    return created, listed
            finally:
                await close_container(container)

        created, listed = asyncio.run(send())

        assert created.status_code == 201, created.text
        assert listed.status_code == 200, listed.text
        assert [p["order_no"] for p in listed.json()["data"]] == ["ORDER-SIGNED"]

    @pytest.mark.parametrize(("target", "encoded"), [
        ("/api/v1/payments?order_no=\u00fcn\u00ef-\U0001f600 #1",
         "/api/v1/payments?order_no=%C3%BCn%C3%AF-%F0%9F%98%80%20%231"),
        ("/api/v1/payments?order_no=%C3%BC&limit=5", "/api/v1/payments?order_no=%C3%BC&limit=5"),
        ("/api/v1/payments/p\u00e4y?x=50%", "/api/v1/payments/p%C3%A4y?x=50%25"),
        ("/api/v1/payments?", "/api/v1/payments"),
        *[(valid, valid) for valid in ["/api/v1/events?after=1&x=a/b?c:d@e!$'()*+,;=~"]],
    ])
    def test_a_target_is_percent_encoded_and_signed_as_sent(
        self, paygate: Paygate, merchant: dict[str, Any], target: str, encoded: str
    ) -> None:
        """A non-ASCII target was printed raw: curl sent it, uvicorn answered 400."""
        parts = self.curl(paygate, merchant, "GET", target)

        headers = self.headers_of(parts)
        assert parts[4] == "http://127.0.0.1:8000" + encoded
        signed = f"{headers['X-Timestamp']}\nGET\n{encoded}\n".encode()
        expected = hmac.new(merchant["api_secret"].encode(), signed, hashlib.sha256).hexdigest()
        assert headers["X-Signature"] == expected

    def test_the_gateway_accepts_a_signed_target_with_non_ascii_characters(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        order_no = "\u00fcn\u00ef c\u00f8d\u00e9-\U0001f600"
        paygate.take_payment(merchant["merchant_id"], order_no)
        get = self.curl(paygate, merchant, "GET", f"/api/v1/payments?order_no={order_no}")
        sent = get[4].removeprefix("http://127.0.0.1:8000")

        async def send() -> httpx.Response:
            container = build_container(paygate.settings())
            transport = httpx.ASGITransport(app=build_http_app(container))
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
                    return await client.get(sent, headers=self.headers_of(get))
            finally:
                await close_container(container)

        listed = asyncio.run(send())

        assert sent.isascii()
        assert listed.status_code == 200, listed.text
        assert [p["order_no"] for p in listed.json()["data"]] == [order_no]

    def test_a_target_that_is_not_a_path_is_a_usage_error(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        result = paygate(
            "sign", "GET", "api/v1/payments", "--key", "k", "--secret", merchant["api_secret"]
        )

        assert_clean_failure(result, 2, "TARGET")


@pytest.mark.slow
def test_the_installed_console_script_operates_a_real_database(
    paygate: Paygate, tmp_path: Path
) -> None:
    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PAYGATE), *args],
            env={**os.environ, **paygate.env, **env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    created = run("merchants", "create", "--name", "Shell Ltd", "--json")
    assert created.returncode == 0, created.stderr
    merchant_id = json.loads(created.stdout)["merchant_id"]
    payment = paygate.take_payment(merchant_id, "ORDER-SHELL", 1_000)
    paygate.json("refunds", "create", payment["payment_no"], "--amount", "400")

    exceeded = run("refunds", "create", payment["payment_no"], "--amount", "601")
    down = run("payments", "list", PAYGATE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/gone/x.db")

    assert exceeded.returncode == 1
    assert "amount_exceeded" in exceeded.stderr
    assert "(6.00 USD)" in exceeded.stderr
    assert down.returncode == 1
    assert "unavailable" in down.stderr
    for result in (created, exceeded, down):
        assert "Traceback" not in result.stdout + result.stderr, result.stderr


@pytest.mark.parametrize(
    ("database_url", "workers", "warned"),
    [
        ("sqlite+aiosqlite:///{tmp}/paygate.db", "2", True),
        ("sqlite+aiosqlite:///{tmp}/paygate.db", "1", False),
        ("postgresql+asyncpg://db.example/paygate", "2", False),
    ],
)
def test_serving_sqlite_with_several_workers_warns_and_still_serves(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    workers: str,
    warned: bool,
) -> None:
    served: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: served.append(options))
    env = {
        **cli_env,
        "PAYGATE_DATABASE_URL": database_url.format(tmp=tmp_path),
        "PAYGATE_AUTO_UPGRADE": "false",
        "PAYGATE_METRICS": "off",
    }

    result = Paygate(env)("serve", "--workers", workers)

    assert result.exit_code == 0, result.output
    assert [options["workers"] for options in served] == [int(workers)]
    warnings = [json.loads(line) for line in result.stdout.splitlines()
                if "one write lock" in line]
    assert [w["level"] for w in warnings] == (["WARNING"] if warned else [])
