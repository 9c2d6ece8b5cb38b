"""Clients that hold a request open are cut off, and a worker serves a bounded number of
connections: a real `paygate serve` behind real sockets."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from gateway_client import gateway_env
from process_harness import PaygateProcess, Processes

pytestmark = pytest.mark.slow
HELD_HEADERS = b"POST /api/v1/payments HTTP/1.1\r\nHost: paygate\r\nX-Api-Key: key_"
HELD_BODY = (b"POST /api/v1/payments HTTP/1.1\r\nHost: paygate\r\nContent-Type: application/json"
             b"\r\nContent-Length: 100\r\n\r\n{\"order_no\":")


@pytest.fixture
def impatient(processes: Processes, master_key: str) -> PaygateProcess:
    env = gateway_env(processes.workdir, master_key, PAYGATE_WORKER="off",
                      PAYGATE_HEADER_TIMEOUT="1", PAYGATE_BODY_TIMEOUT="1",
                      PAYGATE_MAX_CONNECTIONS="3")
    return processes.start("gateway", "serve", env=env).wait_live()


def held(gateway: PaygateProcess, first_bytes: bytes) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    conn.sendall(first_bytes)
    return conn


def until_closed(conn: socket.socket) -> bytes:
    """Everything the server sends before it closes the connection (b"" then)."""
    received = b""
    while chunk := conn.recv(4096):
        received += chunk
    return received


def test_headers_held_past_their_deadline_lose_the_connection(
    impatient: PaygateProcess,
) -> None:
    conn = held(impatient, HELD_HEADERS)
    started = time.monotonic()

    answer = until_closed(conn)

    assert answer == b""
    assert 0.5 < time.monotonic() - started < 5
    assert httpx.get(f"{impatient.base_url}/health/live").status_code == 200


def test_a_body_held_past_its_deadline_is_408_and_the_connection_closed(
    impatient: PaygateProcess,
) -> None:
    conn = held(impatient, HELD_BODY)

    answer = until_closed(conn)

    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"code":"request_timeout"' in answer
    assert b"connection: close" in answer.lower()


def test_past_its_connection_cap_a_worker_answers_503(impatient: PaygateProcess) -> None:
    holding = [held(impatient, HELD_HEADERS) for _ in range(3)]

    answer = httpx.get(f"{impatient.base_url}/health/live")

    assert answer.status_code == 503
    for conn in holding:
        conn.close()
