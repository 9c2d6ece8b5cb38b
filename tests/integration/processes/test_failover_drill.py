"""The failover drill: two channel services (`paygate serve-channel` twice) behind one
gateway whose route is the first, then the second (docs/adr/0025, docs/adr/0026).

- Stop the first mid-load: every payment accepted in the window succeeds, those sent while
  it is down on the second; none is charged twice (the channel services' own counts per
  attempt key), none is lost. A charge the first had on the wire as it stopped may have
  been made: that payment stays `processing` and is reconciled, never tried elsewhere.
  Restart it, and once its breaker closes the traffic goes back to it.
- Hang the first (it accepts connections and never answers): the payments sent to it stay
  `processing`, none is tried on the second, and the reconciler finishes them against the
  first once it answers again.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_client import (
    ADMIN_TOKEN,
    CARD_OK,
    SANDBOX_SECRET,
    Gateway,
    Keys,
    Rows,
    gateway_env,
    payment_body,
)
from process_harness import PaygateProcess, Processes, run_cli, wait_for

pytestmark = pytest.mark.slow

SERVICE_TOKEN = "drill-service-token"
RECOVERY_SECONDS = 2.0
TIMEOUT_SECONDS = 1.0
LOAD_THREADS = 3


@dataclass
class Drill:
    api: Gateway
    keys: Keys
    env: dict[str, str]
    workdir: Path
    first: PaygateProcess
    second: PaygateProcess


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory, master_key: str) -> Iterator[Drill]:
    workdir = tmp_path_factory.mktemp("failover")
    started = Processes(workdir)
    shared = {"PAYGATE_SANDBOX_SECRET": SANDBOX_SECRET, "PAYGATE_SERVICE_TOKEN": SERVICE_TOKEN}
    try:
        first = started.start("first-channel", "serve-channel", env=shared)
        second = started.start("second-channel", "serve-channel", env=shared)
        env = gateway_env(
            workdir, master_key,
            PAYGATE_WORKER="off",
            PAYGATE_CHANNEL_URL=first.base_url,  # the `sandbox` channel
            PAYGATE_CHANNEL_URLS=f"backup={second.base_url}",
            PAYGATE_DEFAULT_ROUTE="sandbox",  # the merchant's own rule routes, below
            PAYGATE_SERVICE_TOKEN=SERVICE_TOKEN,
            PAYGATE_REMOTE_TIMEOUT=str(TIMEOUT_SECONDS),
            PAYGATE_BREAKER_FAILURE_THRESHOLD="3",
            PAYGATE_BREAKER_RECOVERY_SECONDS=str(RECOVERY_SECONDS),
        )
        upgraded = run_cli("db", "upgrade", env=env, workdir=workdir)
        assert upgraded.returncode == 0, upgraded.stderr
        gateway = started.start("gateway", "serve", env=env)
        for process in (first, second, gateway):
            process.wait_live()
        api = Gateway(gateway.base_url)
        keys = api.new_merchant("Drill Ltd")
        rules = {"rules": [{"currency": "USD", "channels": ["sandbox", "backup"]}]}
        routed = api.http.put(f"/admin/v1/merchants/{keys.merchant_id}/routing",
                              content=json.dumps(rules),
                              headers={"Authorization": f"Bearer {ADMIN_TOKEN}",
                                       "Content-Type": "application/json"})
        assert routed.status_code == 200, routed.text
        try:
            yield Drill(api, keys, env, workdir, first, second)
        finally:
            api.close()
    finally:
        started.stop_all()


_orders = count(1)


def routed_payment(drill: Drill, prefix: str, api: Gateway | None = None) -> httpx.Response:
    body = payment_body(f"{prefix}-{next(_orders)}", CARD_OK, 1_000)
    del body["channel"]  # routed
    return (api or drill.api).call(drill.keys, "POST", "/api/v1/payments", body)


_counts = httpx.Client(timeout=10, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})


def charges(service: PaygateProcess, key: str) -> int:
    """How often the channel service itself charged under this idempotency key."""
    answer = _counts.get(f"{service.base_url}/sandbox/charges/{key}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["executions"])


def tried(payment: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(a["channel"], a["outcome"], a["failure_code"]) for a in payment["attempts"]]


class Load:
    """Payments sent back to back by a few clients until stopped; every answer kept."""

    def __init__(self, drill: Drill) -> None:
        self.drill = drill
        self.answers: list[tuple[float, httpx.Response]] = []
        self.stopped = threading.Event()
        self._pool = ThreadPoolExecutor(LOAD_THREADS)
        self._lock = threading.Lock()

    def __enter__(self) -> Load:
        for _ in range(LOAD_THREADS):
            self._pool.submit(self._client)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self._pool.shutdown(wait=True)

    def _client(self) -> None:
        api = Gateway(self.drill.api.http.base_url.__str__())
        try:
            while not self.stopped.is_set():
                answer = routed_payment(self.drill, "LOAD", api)
                with self._lock:
                    self.answers.append((time.monotonic(), answer))
        finally:
            api.close()

    def since(self, moment: float) -> list[dict[str, Any]]:
        with self._lock:
            return [a.json() for at, a in self.answers if at >= moment]

    def wait_for_payments(self, how_many: int, after: float, timeout: float = 15) -> None:
        wait_for(f"{how_many} payments answered", lambda: len(self.since(after)) >= how_many,
                 timeout=timeout)


def test_stopping_the_first_channel_mid_load_moves_the_traffic_and_charges_once(
    drill: Drill,
) -> None:
    started = time.monotonic()
    with Load(drill) as load:
        load.wait_for_payments(8, started)
        drill.first.stop()  # SIGTERM, mid-load
        stopped = time.monotonic()
        load.wait_for_payments(10, stopped)
    drill.first.start().wait_live()
    returned: list[dict[str, Any]] = []

    def back_on_first() -> bool:
        payment = routed_payment(drill, "BACK").json()
        returned.append(payment)
        return payment["channel"] == "sandbox"

    wait_for("a payment on the first channel again", back_on_first,
             timeout=RECOVERY_SECONDS + 10, every=0.2)
    after_restart = [routed_payment(drill, "BACK").json() for _ in range(3)]

    answers = [answer for _, answer in load.answers]
    assert len(answers) < 200, "a short window"
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers
                                                       if a.status_code != 201][:3]
    payments = [a.json() for a in answers] + returned + after_restart
    # A charge the first channel had on the wire when it was stopped may have been made:
    # such a payment (at most one per client) stays `processing`, is never tried on the
    # second, and the reconciler asks the first about it once it is back.
    cut_off = [p for p in payments if p["status"] != "succeeded"]
    assert len(cut_off) <= LOAD_THREADS, cut_off
    for payment in cut_off:
        assert (payment["status"], tried(payment)) == (
            "processing", [("sandbox", "unknown", None)]), payment
    if cut_off:
        done = run_cli("reconcile", "--older-than", "0", "--json", env=drill.env,
                       workdir=drill.workdir)
        assert done.returncode == 0, done.stderr
    stored = {number: (status, channel) for number, status, channel in Rows(
        drill.workdir / "paygate.db").all("SELECT payment_no, status, channel FROM payments")}
    for payment in payments:  # nothing lost: each one answered is stored, and succeeded
        assert stored[payment["payment_no"]] == ("succeeded", payment["channel"])
    payments = [p for p in payments if p not in cut_off]
    failed_over = [p for p in payments if p["channel"] == "backup"]
    on_first = [p for p in payments if p["channel"] == "sandbox"]
    assert len(failed_over) >= 8, "the outage's payments went to the second channel"
    assert drill.api.payment(drill.keys, failed_over[0]["payment_no"]) == failed_over[0]
    for payment in failed_over:
        assert tried(payment) == [("sandbox", "failed", "channel_unavailable"),
                                  ("backup", "succeeded", None)]
    for payment in on_first:
        assert tried(payment) == [("sandbox", "succeeded", None)]
    # zero double charges, by the channel services' own counts per attempt key: the second
    # charged each failed-over payment once under its second attempt's key, and nothing
    # else; the restarted first charged each of its payments once
    with ThreadPoolExecutor(8) as pool:
        second = list(pool.map(lambda p: (charges(drill.second, p["payment_no"]),
                                          charges(drill.second, f"{p['payment_no']}.2")),
                               payments))
        first = list(pool.map(lambda p: charges(drill.first, p["payment_no"]), after_restart))
    assert second == [(0, 1) if p["channel"] == "backup" else (0, 0) for p in payments]
    for payment in cut_off:
        number = payment["payment_no"]
        assert (charges(drill.second, number), charges(drill.second, f"{number}.2")) == (0, 0)
    assert {p["channel"] for p in after_restart} == {"sandbox"}
    assert first == [1] * len(after_restart)


def test_a_hung_first_channel_leaves_its_payments_processing_for_the_reconciler(
    drill: Drill,
) -> None:
    first = drill.first.process
    assert first is not None
    wait_for("the first channel's breaker to close",
             lambda: drill.api.ready().status_code == 200, timeout=RECOVERY_SECONDS + 10)
    first.send_signal(signal.SIGSTOP)  # it accepts connections and never answers
    try:
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda _: routed_payment(drill, "HUNG"), range(3)))
    finally:
        first.send_signal(signal.SIGCONT)

    payments = [a.json() for a in answers]
    assert [a.status_code for a in answers] == [201] * 3
    for payment in payments:
        assert payment["status"] == "processing", payment
        assert payment["channel"] == "sandbox"
        assert tried(payment) == [("sandbox", "unknown", None)]
        number = payment["payment_no"]
        assert (charges(drill.second, number), charges(drill.second, f"{number}.2")) == (0, 0)

    done = run_cli("reconcile", "--older-than", "0", "--json", env=drill.env,
                   workdir=drill.workdir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reconciled"].get("succeeded", 0) >= 3, done.stdout
    for payment in payments:
        number = payment["payment_no"]
        now = drill.api.payment(drill.keys, number)
        assert (now["status"], now["channel"]) == ("succeeded", "sandbox")
        assert tried(now) == [("sandbox", "succeeded", None)]
        assert charges(drill.first, number) <= 1  # the queued charge ran once, or never
        assert (charges(drill.second, number), charges(drill.second, f"{number}.2")) == (0, 0)
