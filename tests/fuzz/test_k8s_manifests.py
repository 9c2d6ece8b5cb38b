"""deploy/k8s: every manifest parses, the probes hit the health routes, and every
PAYGATE_* variable a manifest names is a real setting (a typo would be silently ignored)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from entrypoints.settings import Settings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
SETTINGS = {f"PAYGATE_{spec.name.upper()}" for spec in fields(Settings)}


def manifests() -> list[dict[str, Any]]:
    docs = [
        doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
    ]
    return [doc for doc in docs if doc]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def deployment(name: str) -> dict[str, Any]:
    [found] = [d for d in by_kind("Deployment") if d["metadata"]["name"] == name]
    return found


def container(name: str) -> dict[str, Any]:
    [only] = deployment(name)["spec"]["template"]["spec"]["containers"]
    return dict(only)


def named_env(doc: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    if doc["kind"] in ("ConfigMap", "Secret"):
        names |= set(doc.get("data") or {}) | set(doc.get("stringData") or {})
    if doc["kind"] == "Deployment":
        for each in doc["spec"]["template"]["spec"]["containers"]:
            names |= {var["name"] for var in each.get("env", [])}
    return {name for name in names if name.startswith("PAYGATE_")}


def test_every_kind_the_deployment_needs_is_there() -> None:
    kinds = {doc["kind"] for doc in manifests()}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler"} <= kinds


@pytest.mark.parametrize("doc", manifests(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_paygate_variable_named_is_a_setting(doc: dict[str, Any]) -> None:
    assert named_env(doc) <= SETTINGS, named_env(doc) - SETTINGS


def test_the_api_pods_probe_health_and_leave_background_work_to_the_worker() -> None:
    gateway = container("paygate-gateway")
    env = {var["name"]: var for var in gateway["env"]}

    assert deployment("paygate-gateway")["spec"]["replicas"] == 3
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert env["PAYGATE_WORKER"]["value"] == "off"
    assert {"requests", "limits"} <= set(gateway["resources"])
    for secret in (
        "PAYGATE_DATABASE_URL",
        "PAYGATE_MASTER_KEY",
        "PAYGATE_ADMIN_TOKEN",
        "PAYGATE_SANDBOX_SECRET",
        "PAYGATE_METRICS_TOKEN",
    ):
        assert env[secret]["valueFrom"]["secretKeyRef"]["name"] == "paygate-secrets"


def test_one_worker_runs_apart() -> None:
    worker = deployment("paygate-worker")
    assert worker["spec"]["replicas"] == 1
    assert container("paygate-worker")["args"] == ["worker"]


def test_the_secret_is_a_template_without_real_values() -> None:
    [secret] = by_kind("Secret")
    assert all("<" in value for value in secret["stringData"].values()), secret


def test_the_autoscaler_scales_the_gateway_on_cpu() -> None:
    [hpa] = by_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "paygate-gateway"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
