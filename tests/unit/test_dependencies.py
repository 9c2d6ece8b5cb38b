"""Every runtime dependency in pyproject.toml is imported by paygate, or says why not.

A dependency nobody imports is still installed, audited and upgraded for nothing (the
`stripe` package was declared for years while ADR 0006 had the adapter speak Stripe's
HTTP API itself).
"""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "application", "adapters", "entrypoints", "observability")
NOT_IMPORTED = {
    # distribution -> why paygate declares it without importing it
    "uvloop": "uvicorn picks its event loop up on its own (ADR 0008)",
    "httptools": "uvicorn picks its HTTP parser up on its own (ADR 0008)",
}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = (re.split(r"[\s\[<>=;!~]", spec, maxsplit=1)[0] for spec in project["dependencies"])
    return {name.lower().replace("_", "-") for name in names}


def imported_modules() -> set[str]:
    roots = set()
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    roots.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    roots.add(node.module.split(".")[0])
    return roots


def distributions_of(modules: set[str]) -> set[str]:
    owners = packages_distributions()
    return {
        distribution.lower().replace("_", "-")
        for module in modules
        for distribution in owners.get(module, [])
    }


def test_every_declared_dependency_is_imported_or_explains_why_not() -> None:
    unused = declared() - distributions_of(imported_modules()) - set(NOT_IMPORTED)

    assert unused == set()


def test_the_reasons_given_are_for_dependencies_still_declared() -> None:
    assert set(NOT_IMPORTED) <= declared()
