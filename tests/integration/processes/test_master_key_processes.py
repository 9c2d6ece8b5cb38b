"""Two gateways on one database with different master keys, and a rotation while serving:
real `paygate` processes, as an operator runs them."""

from __future__ import annotations

import base64
import os

import pytest
from gateway_client import Gateway, gateway_env
from process_harness import Processes, run_cli

pytestmark = pytest.mark.slow
EXIT_TIMEOUT = 30


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_a_second_gateway_with_another_key_refuses_to_start_in_one_line(
    processes: Processes, master_key: str
) -> None:
    env = gateway_env(processes.workdir, master_key)
    first = processes.start("first", "serve", env=env).wait_live()
    gateway = Gateway(first.base_url)
    gateway.new_merchant()

    second = processes.start("second", "serve", env={**env, "PAYGATE_MASTER_KEY": _key()})
    assert second.process is not None
    code = second.process.wait(timeout=EXIT_TIMEOUT)

    lines = second.output().strip().splitlines()
    assert code == 2, second.output()
    assert len(lines) == 1, lines
    assert "not the key" in lines[0]
    assert gateway.ready().status_code == 200
    gateway.close()


def test_serve_without_a_key_refuses_to_start_and_makes_none(processes: Processes) -> None:
    env = {k: v for k, v in gateway_env(processes.workdir, "").items() if "MASTER_KEY" not in k}

    keyless = processes.start("keyless", "serve", env=env)
    assert keyless.process is not None
    code = keyless.process.wait(timeout=EXIT_TIMEOUT)

    assert code == 2, keyless.output()
    assert "no master key" in keyless.output()
    assert len(keyless.output().strip().splitlines()) == 1
    assert not (processes.workdir / "paygate.key").exists()


def test_keys_rotate_while_the_gateway_serves_then_the_old_key_is_dropped(
    processes: Processes, master_key: str
) -> None:
    old, new = master_key, _key()
    env = gateway_env(processes.workdir, old)
    gateway = processes.start("old", "serve", env=env).wait_live()
    api = Gateway(gateway.base_url)
    keys = api.new_merchant()
    api.pay(keys, "ORDER-BEFORE")
    api.close()
    gateway.stop()
    rotating = {**env, "PAYGATE_MASTER_KEY": new, "PAYGATE_PREVIOUS_MASTER_KEY": old}
    both = processes.start("both", "serve", env=rotating).wait_live()
    api = Gateway(both.base_url)

    rotated = run_cli("keys", "rotate", "--json", env=rotating, workdir=processes.workdir)
    during = api.pay(keys, "ORDER-DURING")
    api.close()
    both.stop()
    new_only = processes.start("new", "serve", env={**env, "PAYGATE_MASTER_KEY": new})
    api = Gateway(new_only.wait_live().base_url)

    assert rotated.returncode == 0, rotated.stderr
    assert during["status"] == "succeeded"
    assert api.pay(keys, "ORDER-AFTER")["status"] == "succeeded"
    assert api.ready().status_code == 200
    api.close()
