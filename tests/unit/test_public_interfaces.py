"""Public interfaces only (docs/style.md): adapters/, observability/ and entrypoints/ use a
library through what it documents, never its underscore attributes or private modules.

The scan reads the source (AST) and reports:

- `x._name`, and `getattr(x, "_name")` and its kin, where `x` is not `self` or `cls`;
- an import of a module or a name that starts with an underscore, outside the project;
- an import of a module a library keeps for itself (`PRIVATE_MODULES`).

Nothing is exempt by inference, and no file is exempt as a whole. Every exception is an
entry of `ALLOWED` with the reason next to it, and an entry that no longer matches
anything fails the suite too, so the list cannot keep an exception the code no longer
needs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("adapters", "observability", "entrypoints", "bench")
PROJECT = {"domain", "application", "adapters", "entrypoints", "observability"}
NAME_ARGUMENT_CALLS = {"getattr", "setattr", "hasattr", "delattr", "__getattribute__",
                       "__setattr__", "__delattr__"}

PRIVATE_MODULES: dict[str, str] = {
    # Modules without an underscore that their library nonetheless keeps to itself:
    # importing them, or anything inside them, is reported like an underscore module.
    "purgatory.domain": "purgatory's internal model; its API is the breaker factory",
    "sqlalchemy.util": "SQLAlchemy's own helpers (greenlet_spawn and the like)",
    "sqlalchemy.sql.compiler": "the compiler's classes; compile() returns what we use",
    "sqlalchemy.sql.elements": "implementation module; its classes are exported by sqlalchemy",
    "sqlalchemy.sql.dml": "implementation module; its classes are exported by sqlalchemy",
    "sqlalchemy.sql.selectable": "implementation module; exported by sqlalchemy",
    "aiosqlite.core": "implementation module; aiosqlite exports Connection and connect",
    "asyncpg.protocol": "asyncpg's Cython internals",
}

ALLOWED: dict[tuple[str, str], str] = {
    # (file, or "*" for any file; the access as written) -> why it is not private.
    ("*", "._make"): "namedtuple's documented constructor from an iterable",
    ("*", "._replace"): "namedtuple's documented copy-with-changes",
    ("*", "._asdict"): "namedtuple's documented conversion",
    ("*", "._fields"): "namedtuple's documented field names",
    ("bench/raw_reference.py", "os._exit"):
        "documented in os: a forked child leaves without running its parent's cleanup",
    ("observability/decorators.py", "object.__getattribute__(wrapper, '_inner')"):
        "the wrapper's own slot, read without recursing into its __getattr__",
}

@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    line: int
    access: str  # as written, e.g. `conn._conn` or `from purgatory.domain.model import X`

    def matches(self, where: str, access: str) -> bool:
        in_file = where in ("*", self.path)
        if access.startswith("."):
            return in_file and self.access.endswith(access)
        return in_file and self.access == access


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _outside_project(module: str) -> bool:
    return module.split(".")[0] not in PROJECT


def _private_module(module: str) -> bool:
    parts = module.split(".")
    return any(_private(part) for part in parts) or any(
        module == known or module.startswith(known + ".") for known in PRIVATE_MODULES
    )


def _own(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def findings_in(source: str, path: str) -> list[Finding]:
    tree = ast.parse(source, filename=path)
    found = []
    for node in ast.walk(tree):
        access = None
        if isinstance(node, ast.Attribute) and _private(node.attr) and not _own(node.value):
            access = ast.unparse(node)
        elif isinstance(node, ast.Call) and _call_name(node) in NAME_ARGUMENT_CALLS:
            names = [a for a in node.args[1:2] if isinstance(a, ast.Constant)]
            if names and isinstance(names[0].value, str) and _private(names[0].value) \
                    and not _own(node.args[0]):
                access = ast.unparse(node)
        elif isinstance(node, ast.Import):
            bad = [a.name for a in node.names
                   if _outside_project(a.name) and _private_module(a.name)]
            access = f"import {', '.join(bad)}" if bad else None
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and _outside_project(node.module):
            names = [a.name for a in node.names]
            if _private_module(node.module) or any(_private(n) for n in names):
                access = f"from {node.module} import {', '.join(names)}"
        if access is not None:
            found.append(Finding(path, node.lineno, access))
    return found


def scan(root: Path = ROOT) -> list[Finding]:
    return [
        finding
        for layer in SCANNED
        for file in sorted((root / layer).rglob("*.py"))
        for finding in findings_in(file.read_text(), str(file.relative_to(root)))
    ]


def unexcused(findings: list[Finding], *allow_lists: dict[tuple[str, str], str]) -> list[str]:
    return [
        f"{f.path}:{f.line}: {f.access}"
        for f in findings
        if not any(f.matches(*entry) for allowed in allow_lists for entry in allowed)
    ]


def test_adapters_observability_and_entrypoints_use_public_interfaces_only() -> None:
    assert unexcused(scan(), ALLOWED) == []


def test_every_allowed_exception_is_still_needed() -> None:
    findings = scan()
    unused = [
        entry for entry in ALLOWED
        if entry[0] != "*" and not any(f.matches(*entry) for f in findings)
    ]
    assert unused == []


@pytest.mark.parametrize(
    "source",
    [
        "conn._conn.execute('BEGIN')\n",
        "x = compiled._bind_processors\n",
        "getattr(exporter, '_client', None)\n",
        "setattr(child, '_sum', 1.0)\n",
        "object.__getattribute__(thing, '_inner')\n",
        "from purgatory.domain.model import Context\n",
        "import purgatory.domain.model\n",
        "from sqlalchemy.util.concurrency import greenlet_spawn\n",
        "from litestar._kwargs import KwargsModel\n",
        "from sqlalchemy.sql.compiler import SQLCompiler\n",
        "from prometheus_client import _private_helper\n",
        "import _thread\n",
    ],
)
def test_the_scan_reports_each_kind_of_private_access(source: str) -> None:
    assert unexcused(findings_in(source, "adapters/x.py"), ALLOWED) == [
        f"adapters/x.py:1: {findings_in(source, 'adapters/x.py')[0].access}"
    ]


@pytest.mark.parametrize(
    "source",
    [
        "self._conn.execute('BEGIN')\n",
        "cls._cache.clear()\n",
        "row = Row._make(values)\n",
        "getattr(settings, 'database_url')\n",
        "from sqlalchemy import BindParameter\n",
        "from domain._internal import thing\n",
        "from adapters.persistence import driver\n",
        "from __future__ import annotations\n",
        "x.__class__.__name__\n",
    ],
)
def test_the_scan_leaves_public_and_own_access_alone(source: str) -> None:
    assert unexcused(findings_in(source, "adapters/x.py"), ALLOWED) == []
