"""Layers point one way and no module imports itself back: checked on the sources, for every module."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from tests.import_graph import PACKAGES, import_graph, module_files, package_edges

ROOT = Path(__file__).resolve().parents[1]
# What each package may import from the project (DESIGN.md: experiments -> lightning_modules, datamodules -> core).
ALLOWED = {
    "core": {"core"},
    "datamodules": {"core", "datamodules"},
    "lightning_modules": {"core", "lightning_modules"},
    "experiments": set(PACKAGES),
}
# Pure loss code: torch and the core only, never Lightning.
PURE = ("lightning_modules.losses", "lightning_modules.distances", "lightning_modules.miners")
MAX_LINES = 300


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT)


def test_layers_point_one_way(graph: dict[str, set[str]]) -> None:
    upward = sorted(
        f"{source} imports {target}"
        for source, targets in graph.items()
        for target in targets
        if target.split(".")[0] not in ALLOWED[source.split(".")[0]]
    )
    assert upward == []


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as err:
        pytest.fail(f"import cycle: {' -> '.join(err.args[1])}")


def test_losses_distances_and_miners_never_import_lightning() -> None:
    offenders = []
    for name, path in module_files(ROOT).items():
        if not name.startswith(PURE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{name} imports {n}" for n in names if n.split(".")[0] in ("pytorch_lightning", "lightning")]
    assert offenders == []


def test_modules_stay_small() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in module_files(ROOT).items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_the_checker_sees_upward_imports_and_cycles(tmp_path: Path) -> None:
    # The checks above must be able to fail: a planted upward import and a planted cycle are found.
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "datamodules" / "a.py").write_text("from lightning_modules.b import B\n")
    (tmp_path / "lightning_modules" / "b.py").write_text("def f():\n    from lightning_modules import c\n")
    (tmp_path / "lightning_modules" / "c.py").write_text("import lightning_modules.b\n")
    planted = import_graph(tmp_path)
    assert planted["datamodules.a"] == {"lightning_modules.b"}
    assert package_edges(planted)[("datamodules", "lightning_modules")] == 1
    with pytest.raises(CycleError):
        tuple(TopologicalSorter(planted).static_order())
