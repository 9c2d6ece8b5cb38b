import sys
from collections.abc import Iterator

import pytest

from entrypoints.http.asgi import SQLITE_SWITCH_INTERVAL, tune_interpreter
from entrypoints.settings import Settings


@pytest.fixture
def switch_interval() -> Iterator[float]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield 0.005
    sys.setswitchinterval(before)


def test_an_sqlite_gateway_hands_the_gil_to_aiosqlite_sooner(switch_interval: float) -> None:
    tune_interpreter(Settings(database_url="sqlite+aiosqlite:///./paygate.db"))
    assert sys.getswitchinterval() == pytest.approx(SQLITE_SWITCH_INTERVAL)
    assert switch_interval > SQLITE_SWITCH_INTERVAL


def test_a_postgresql_gateway_keeps_pythons_default(switch_interval: float) -> None:
    tune_interpreter(Settings(database_url="postgresql+asyncpg://db.example/paygate"))
    assert sys.getswitchinterval() == pytest.approx(switch_interval)
