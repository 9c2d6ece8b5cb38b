"""One composition root: `compose` builds every use case, by its own type, from ports;
the container feeds it adapters and the unit tests feed it fakes."""

from __future__ import annotations

import ast
import typing
from dataclasses import fields
from pathlib import Path

import pytest

from adapters.platform.vault import create_key_file
from entrypoints.composition import Services, compose
from entrypoints.container import build_container, close_container, services_of
from entrypoints.settings import Settings
from entrypoints.telemetry import Telemetry
from observability.decorators import MeteredUseCase
from observability.metrics import Metrics
from tests.unit.fakes import Gateway, card

ROOT = Path(__file__).resolve().parents[3]
USE_CASES = [f.name for f in fields(Services) if f.name != "payment_refused"]


def declared(name: str) -> type:
    kind = typing.get_type_hints(Services)[name]
    assert isinstance(kind, type), f"Services.{name} is typed {kind!r}, not a class"
    return kind


@pytest.mark.parametrize("name", USE_CASES)
def test_every_use_case_is_built_as_its_own_type_from_the_fakes(name: str) -> None:
    services = compose(Gateway().ports)

    assert type(getattr(services, name)) is declared(name)


@pytest.mark.parametrize("name", USE_CASES)
async def test_the_container_builds_the_same_graph_from_its_adapters(
    name: str, tmp_path: Path
) -> None:
    create_key_file(tmp_path / "paygate.key")
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/paygate.db",
                        master_key_file=tmp_path / "paygate.key", metrics=False, tracing=False)
    container = build_container(settings)
    try:
        services = services_of(container)

        assert type(getattr(services, name)) is declared(name)
        assert getattr(container.use_cases, name)() is getattr(services, name)
    finally:
        await close_container(container)


async def test_a_payment_refused_before_its_use_case_is_counted_where_metrics_are_on(
    gateway: Gateway, merchant_id: str
) -> None:
    metrics = Metrics()
    services = compose(gateway.ports, Telemetry(metrics, None))
    command = gateway.payment_command(merchant_id, card=card())

    services.payment_refused(command, ValueError("the card fails the Luhn check"))

    assert isinstance(services.create_payment, MeteredUseCase)
    assert metrics.registry.get_sample_value(
        "payment_gateway_payment_total",
        {"status": "failed", "channel": "sandbox", "currency": "USD"}) == 1.0


def test_without_an_observer_a_refusal_is_only_its_answer(gateway: Gateway) -> None:
    services = compose(gateway.ports)

    assert services.payment_refused(object(), ValueError()) is None
    assert type(services.create_payment).__name__ == "CreatePayment"


def test_the_http_handlers_know_nothing_of_the_observability_wrappers() -> None:
    leaks = []
    for path in sorted((ROOT / "entrypoints" / "http").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("observability"):
                leaks.append(f"{path.name}: imports {node.module}")
            if isinstance(node, ast.Constant) and node.value == "refused":
                leaks.append(f"{path.name}: asks for 'refused'")
    assert leaks == []
