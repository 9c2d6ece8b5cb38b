"""The CLI suite: `paygate` commands against an SQLite file of their own per test."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_harness import Paygate
from sqlalchemy.engine import make_url

from adapters.persistence import upgrade_database

SANDBOX_SECRET = "sandbox-secret-for-the-cli-suite"


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """`serve` and `worker` send every logger to a JSON handler on the stdout of the
    moment, here the runner's: give the next test the logging it had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.fixture(scope="session")
def cli_schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-template") / "paygate.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def cli_env(master_key_file: Path, sqlite_url: str) -> dict[str, str]:
    """What an operator's shell would export; the database file does not exist yet."""
    return {
        "PAYGATE_DATABASE_URL": sqlite_url,
        "PAYGATE_MASTER_KEY_FILE": str(master_key_file),
        "PAYGATE_SANDBOX_SECRET": SANDBOX_SECRET,
        "PAYGATE_WORKER": "off",
        "PAYGATE_TRACING": "off",
        "PAYGATE_OPERATOR": "bootstrap",  # who changes things (test_cli_operators.py)
    }


@pytest.fixture
def fresh(cli_env: dict[str, str]) -> Paygate:
    """`paygate` on a database file that does not exist yet."""
    return Paygate(cli_env)


@pytest.fixture
def paygate(cli_env: dict[str, str], cli_schema_template: Path) -> Paygate:
    """`paygate` on a database already at the newest schema."""
    database = make_url(cli_env["PAYGATE_DATABASE_URL"]).database
    assert database
    shutil.copyfile(cli_schema_template, database)
    return Paygate(cli_env)


@pytest.fixture
def merchant(paygate: Paygate) -> dict[str, Any]:
    created: dict[str, Any] = paygate.json("merchants", "create", "--name", "Acme Ltd")
    return created
