"""The raw-driver reference: the payment flow with no framework, no ORM, no engine layer.

A raw asyncio HTTP/1.1 server (keep-alive, Content-Length bodies only) and asyncpg, doing
per payment what paygate does against PostgreSQL, on tables with paygate's keys, indexes
and merchant foreign key (each costs the database work on every insert and update):

  HMAC-SHA256 check of `{timestamp}\\n{METHOD}\\n{path}\\n{body}` (300 s tolerance)
  BEGIN; INSERT payment 'pending' ON CONFLICT DO NOTHING (no row: a duplicate, 409);
         INSERT the order; COMMIT
  BEGIN; UPDATE payment 'succeeded'; INSERT 2 ledger rows (one pipelined executemany);
         UPDATE the order's status; COMMIT

(The benchmark's payments carry no notify_url, so paygate writes no webhook event either.)

Several worker processes share the port with SO_REUSEPORT; each has a pool of up to 20
connections, as paygate's engine. Used by `bench/run.py --raw`.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

SCHEMA = """
CREATE TABLE IF NOT EXISTS raw_merchants (merchant_id text PRIMARY KEY);
INSERT INTO raw_merchants VALUES ('mch_raw') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS raw_payments (
  payment_no text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES raw_merchants (merchant_id), order_no text NOT NULL,
  amount bigint NOT NULL, currency text NOT NULL, channel text NOT NULL, status text NOT NULL,
  card_brand text, card_last4 text, description text, metadata jsonb,
  channel_reference text, refunded_amount bigint NOT NULL DEFAULT 0, captured_at timestamptz,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, version int NOT NULL,
  UNIQUE (merchant_id, order_no));
CREATE INDEX IF NOT EXISTS raw_payments_newest
  ON raw_payments (merchant_id, created_at DESC, payment_no DESC);
CREATE INDEX IF NOT EXISTS raw_payments_unresolved ON raw_payments (status, updated_at);
CREATE INDEX IF NOT EXISTS raw_payments_captured ON raw_payments (merchant_id, captured_at);
CREATE TABLE IF NOT EXISTS raw_orders (
  merchant_id text NOT NULL, order_no text NOT NULL, payment_no text NOT NULL,
  amount bigint NOT NULL, currency text NOT NULL, status text NOT NULL, metadata jsonb,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
  PRIMARY KEY (merchant_id, order_no));
CREATE TABLE IF NOT EXISTS raw_ledger (
  id bigserial PRIMARY KEY, payment_no text NOT NULL, merchant_id text NOT NULL,
  account text NOT NULL, amount bigint NOT NULL, currency text NOT NULL,
  created_at timestamptz NOT NULL, UNIQUE (payment_no, account));
CREATE INDEX IF NOT EXISTS raw_ledger_merchant ON raw_ledger (merchant_id);
"""


class NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """No reset query when the pool takes a connection back: asyncpg's default (advisory
    unlocks, CLOSE ALL, UNLISTEN, RESET ALL) is a round trip per payment that paygate does
    not make; each payment here ends its transactions itself, as paygate's units do."""

    def get_reset_query(self) -> str:
        return ""


PR_SET_PDEATHSIG = 1  # prctl(2)
MERCHANT = "mch_raw"
API_KEY = "key_raw"


class Payments:
    def __init__(self, pool: asyncpg.Pool, secret: bytes) -> None:
        self.pool, self.secret = pool, secret

    async def create(self, headers: dict[str, str], path: str, body: bytes) -> tuple[int, bytes]:
        stamp, given = headers.get("x-timestamp", ""), headers.get("x-signature", "")
        if headers.get("x-api-key") != API_KEY or not stamp.isdigit() \
                or abs(time.time() - int(stamp)) > 300:
            return 401, b'{"error":"unauthenticated"}'
        expected = hmac.new(self.secret, f"{stamp}\nPOST\n{path}\n".encode() + body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given):
            return 401, b'{"error":"unauthenticated"}'
        data = json.loads(body)
        order_no, amount, currency = data["order_no"], int(data["amount"]), data["currency"]
        number = data["payment_method"]["number"]
        payment_no = "pay_" + secrets.token_hex(12)
        now = datetime.now(UTC)
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                inserted = await conn.execute(
                    "INSERT INTO raw_payments (payment_no, merchant_id, order_no, amount, currency,"
                    " channel, status, card_brand, card_last4, description, metadata, created_at,"
                    " updated_at, version) VALUES ($1, $2, $3, $4, $5, 'sandbox', 'pending',"
                    " 'visa', $6, NULL, $7, $8, $8, 1) ON CONFLICT (merchant_id, order_no)"
                    " DO NOTHING",
                    payment_no, MERCHANT, order_no, amount, currency, number[-4:], "{}", now)
                if inserted != "INSERT 0 1":
                    return 409, b'{"error":"duplicate"}'
                await conn.execute(
                    "INSERT INTO raw_orders VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, $7)",
                    MERCHANT, order_no, payment_no, amount, currency, "{}", now)
            reference = "ch_" + secrets.token_hex(8)  # the sandbox charge: card 4242 succeeds
            now = datetime.now(UTC)
            async with conn.transaction():
                updated = await conn.execute(
                    "UPDATE raw_payments SET status = 'succeeded', channel_reference = $2,"
                    " captured_at = $3, updated_at = $3, version = version + 1"
                    " WHERE payment_no = $1 AND version = 1",
                    payment_no, reference, now)
                if updated != "UPDATE 1":
                    raise RuntimeError("concurrent update")
                await conn.executemany(
                    "INSERT INTO raw_ledger (payment_no, merchant_id, account, amount, currency,"
                    " created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    [(payment_no, MERCHANT, "merchant_receivable", amount, currency, now),
                     (payment_no, MERCHANT, "customer_funds", -amount, currency, now)])
                await conn.execute(
                    "UPDATE raw_orders SET status = 'succeeded', updated_at = $3 "
                    "WHERE merchant_id = $1 AND order_no = $2", MERCHANT, order_no, now)
        return 201, json.dumps({
            "payment_no": payment_no, "order_no": order_no, "amount": amount,
            "currency": currency, "status": "succeeded", "channel": "sandbox",
            "created_at": now.isoformat()}).encode()


class HttpProtocol(asyncio.Protocol):
    def __init__(self, app: Payments) -> None:
        self.app, self.buffer = app, b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4:head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length:]
            method, path, _ = lines[0].split(" ", 2)
            asyncio.get_running_loop().create_task(self.handle(method, path, headers, body))

    async def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        if method == "POST" and path == "/api/v1/payments":
            try:
                status, payload = await self.app.create(headers, path, body)
            except Exception as error:
                status, payload = 500, json.dumps({"error": str(error)}).encode()
        elif path == "/health/live":
            status, payload = 200, b'{"status":"ok"}'
        else:
            status, payload = 404, b'{"error":"not_found"}'
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(
                b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                % (status, len(payload)) + payload)


async def serve(sock: socket.socket, dsn: str, secret: bytes) -> None:
    pool = await asyncpg.create_pool(
        dsn, min_size=10, max_size=20, connection_class=NoResetConnection)
    app = Payments(pool, secret)
    server = await asyncio.get_running_loop().create_server(lambda: HttpProtocol(app), sock=sock)
    async with server:  # stopped by `stop` in main, which exits without unwinding
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/paygate_bench")
    parser.add_argument("--secret", default="raw-reference-secret")
    parser.add_argument("--init", action="store_true", help="create the tables first")
    args = parser.parse_args()
    if args.init:
        async def init() -> None:
            conn = await asyncpg.connect(args.dsn)
            await conn.execute(SCHEMA)
            await conn.close()
        asyncio.run(init())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(1024)
    sock.set_inheritable(True)
    children: list[int] = []
    for _ in range(args.workers - 1):
        pid = os.fork()
        if pid == 0:
            children = []
            die_with_parent()
            break
        children.append(pid)

    def stop(*_: object) -> None:
        """No graceful shutdown to wait for: a benchmark's server just goes, workers first."""
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    asyncio.run(serve(sock, args.dsn, args.secret.encode()))


def die_with_parent() -> None:
    """A forked worker is killed when the process that forked it dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


if __name__ == "__main__":
    main()
