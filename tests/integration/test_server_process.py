"""`paygate serve` as a real process: first start on an empty directory, money over real
HTTP with a signature the test computes itself, and a clean exit on SIGTERM."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

PAYGATE = Path(sys.executable).with_name("paygate")
ADMIN_TOKEN = "admin-token-for-the-process-test"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
CLEAN_EXITS = (0, -signal.SIGTERM)
"""uvicorn shuts down gracefully on SIGTERM, then re-raises it: 0 or killed by SIGTERM."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    workdir: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_live(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"paygate serve exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                if httpx.get(f"{self.base_url}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"paygate serve was not live after {START_TIMEOUT} s:\n{self.output()}")

    def stop(self) -> int:
        """SIGTERM, then the exit code; a process that hangs is killed and the test fails."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
            pytest.fail(f"paygate serve ignored SIGTERM for {STOP_TIMEOUT} s:\n{self.output()}")


@pytest.fixture
def server(tmp_path: Path, master_key_file: Path) -> Iterator[Server]:
    port = free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'paygate.db'}",
        "PAYGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "PAYGATE_MASTER_KEY_FILE": str(master_key_file),
        "PAYGATE_TRACING": "off",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(PAYGATE), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Server(process, f"http://127.0.0.1:{port}", log, tmp_path)
    try:
        running.wait_until_live()
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def signed(api_key: str, secret: str, method: str, target: str, body: bytes) -> dict[str, str]:
    """The contract's scheme, written out here rather than borrowed from paygate."""
    stamp = str(int(time.time()))
    message = stamp.encode() + b"\n" + method.encode() + b"\n" + target.encode() + b"\n" + body
    return {
        "X-API-Key": api_key,
        "X-Timestamp": stamp,
        "X-Signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


def send(
    client: httpx.Client, keys: dict[str, Any], method: str, target: str, body: Any = None
) -> httpx.Response:
    raw = b"" if body is None else json.dumps(body).encode()
    headers = signed(keys["api_key"], keys["api_secret"], method, target, raw)
    return client.request(method, target, content=raw or None, headers=headers)


@pytest.mark.slow
def test_a_served_gateway_takes_a_payment_and_a_refund_then_stops_cleanly(
    server: Server,
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        made = client.post(
            "/admin/v1/merchants",
            json={"name": "Process Ltd"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert made.status_code == 201, made.text
        keys = made.json()
        paid = send(
            client,
            keys,
            "POST",
            "/api/v1/payments",
            {
                "order_no": "ORDER-OVER-HTTP",
                "amount": 10_000,
                "currency": "USD",
                "channel": "sandbox",
                "payment_method": {
                    "type": "card",
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            },
        )
        assert paid.status_code == 201, paid.text
        payment_no = paid.json()["payment_no"]
        refunded = send(
            client, keys, "POST", f"/api/v1/payments/{payment_no}/refunds", {"amount": 2_500}
        )
        seen = send(client, keys, "GET", f"/api/v1/payments/{payment_no}")
        forged = client.get("/api/v1/payments", headers={"X-API-Key": keys["api_key"]})
        ready = client.get("/health/ready")

    assert paid.json()["status"] == "succeeded"
    assert paid.headers.get("x-trace-id")
    assert refunded.status_code == 201, refunded.text
    assert (refunded.json()["amount"], refunded.json()["status"]) == (2_500, "succeeded")
    assert (seen.json()["status"], seen.json()["refunded_amount"]) == ("partially_refunded", 2_500)
    assert forged.status_code == 401
    assert ready.status_code == 200, ready.text
    assert (server.workdir / "paygate.db").is_file()

    assert server.stop() in CLEAN_EXITS, server.output()
    assert "Application shutdown complete" in server.output()
    assert "Traceback" not in server.output(), server.output()
