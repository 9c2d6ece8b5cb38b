"""mypy --strict covers every package, in the configuration and in the tox env CI runs."""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"domain", "application", "adapters", "entrypoints", "observability"}


def test_mypy_checks_all_five_packages_strictly() -> None:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]

    assert set(mypy["files"]) == PACKAGES
    assert mypy["strict"] is True
    assert "overrides" not in mypy  # no module is let off; a library without types gets stubs


def test_the_tox_types_env_runs_mypy_on_what_pyproject_names() -> None:
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")

    assert tox["testenv:types"]["commands"].strip() == "mypy"
    assert "types" in tox["testenv:types"]["extras"]
