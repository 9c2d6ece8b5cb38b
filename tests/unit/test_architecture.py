"""The dependency rule of the hexagon, checked on the source, for every layer.

docs/architecture.md draws it as `domain` <- `application` <- `adapters`, `observability`
<- `entrypoints`: each layer imports only the project layers to its left, and the core
(domain, application) imports no third-party package at all. Adapters never import
entrypoints or observability; observability never imports adapters or entrypoints;
only entrypoints, the composition root, see everything.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_LAYERS = {"domain", "application", "adapters", "entrypoints", "observability"}
CORE = {"domain", "application"}  # the standard library only, besides inner layers
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "application": {"domain", "application"},
    "adapters": {"domain", "application", "adapters"},
    "observability": {"domain", "application", "observability"},
    "entrypoints": PROJECT_LAYERS,
}


def imported_roots(path: Path) -> set[str]:
    """Every top-level package `path` imports, at module level or inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def forbidden_imports(layer: str, roots: set[str]) -> set[str]:
    """What a module of `layer` may not import, of the packages it does."""
    project = {name for name in roots if name in PROJECT_LAYERS} - ALLOWED[layer]
    if layer not in CORE:
        return project
    outside = {
        name for name in roots - PROJECT_LAYERS
        if name not in sys.stdlib_module_names and name != "__future__"
    }
    return project | outside


def leaks_of(layer: str, root: Path = ROOT) -> dict[str, list[str]]:
    leaks = {}
    for path in sorted((root / layer).rglob("*.py")):
        forbidden = forbidden_imports(layer, imported_roots(path))
        if forbidden:
            leaks[str(path.relative_to(root))] = sorted(forbidden)
    return leaks


@pytest.mark.parametrize("layer", sorted(CORE))
def test_core_layer_imports_only_the_standard_library_and_inner_layers(layer: str) -> None:
    assert leaks_of(layer) == {}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_every_layer_imports_only_the_layers_architecture_md_allows(layer: str) -> None:
    assert leaks_of(layer) == {}


def test_the_check_sees_a_leak_when_there_is_one(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text("import sqlalchemy\nfrom litestar import Litestar\nimport json\n")
    assert imported_roots(module) - set(sys.stdlib_module_names) == {"sqlalchemy", "litestar"}


@pytest.mark.parametrize(
    ("layer", "source", "forbidden"),
    [
        ("domain", "from application.errors import NotFound\n", {"application"}),
        ("domain", "import msgspec\n", {"msgspec"}),
        ("application", "from adapters.persistence import SqlUnitOfWork\n", {"adapters"}),
        ("application", "import sqlalchemy\n", {"sqlalchemy"}),
        ("adapters", "from entrypoints.settings import Settings\n", {"entrypoints"}),
        ("adapters", "def f():\n    from observability.metrics import Metrics\n",
         {"observability"}),
        ("observability", "from adapters.persistence import engine\n", {"adapters"}),
        ("observability", "import entrypoints.container\n", {"entrypoints"}),
    ],
)
def test_each_rule_sees_its_own_violation(
    tmp_path: Path, layer: str, source: str, forbidden: set[str]
) -> None:
    (tmp_path / layer).mkdir()
    (tmp_path / layer / "wrong.py").write_text(source)

    assert leaks_of(layer, tmp_path) == {f"{layer}/wrong.py": sorted(forbidden)}


@pytest.mark.parametrize(
    ("layer", "source"),
    [
        ("adapters", "import sqlalchemy\nfrom application.ports import storage\n"),
        ("observability", "import prometheus_client\nfrom domain.money import Money\n"),
        ("entrypoints", "from adapters import persistence\nfrom observability import metrics\n"),
    ],
)
def test_what_a_layer_may_import_is_not_reported(tmp_path: Path, layer: str, source: str) -> None:
    (tmp_path / layer).mkdir()
    (tmp_path / layer / "fine.py").write_text(source)

    assert leaks_of(layer, tmp_path) == {}
