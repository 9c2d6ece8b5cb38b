"""The dependency rule of the hexagon, checked on the source: the core imports no framework."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_LAYERS = {"domain", "application", "adapters", "entrypoints", "observability"}
ALLOWED = {"domain": {"domain"}, "application": {"domain", "application"}}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_core_layer_imports_only_the_standard_library_and_inner_layers(layer: str) -> None:
    leaks = {}
    for path in sorted((ROOT / layer).rglob("*.py")):
        outside = {
            name for name in imported_roots(path)
            if name not in sys.stdlib_module_names and name not in ALLOWED[layer]
            and name != "__future__"
        }
        if outside:
            leaks[str(path.relative_to(ROOT))] = sorted(outside)
    assert leaks == {}


def test_the_check_sees_a_leak_when_there_is_one(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text("import sqlalchemy\nfrom litestar import Litestar\nimport json\n")
    assert imported_roots(module) - set(sys.stdlib_module_names) == {"sqlalchemy", "litestar"}
