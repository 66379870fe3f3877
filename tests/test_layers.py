"""The layering is a checked contract: imports point down, services meet only through rpcapi.

docs/ARCHITECTURE.md draws the layers; ``lint-imports`` (import-linter, configured in
pyproject.toml) checks them. These tests prove the contract holds for the tree as it is,
and that it would catch a wrong import: they copy the packages into a temporary folder,
add one bad module there, and run the same check on the copy.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "portal", "volumes", "scheduler", "agent")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` with the project's contracts, over the packages found in ``where``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=where,
        env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def add_module(tree: Path, dotted: str, source: str) -> None:
    (tree / Path(*dotted.split("."))).with_suffix(".py").write_text(source)


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, bad_import, contract",
    [
        ("core.kernel.probe", "from core.cinder.models import Volume", "Imports point down"),
        ("core.kernel.probe", "import volumes.api", "Imports point down"),
        ("core.cinder.probe", "from scheduler import host_manager", "Imports point down"),
        ("volumes.probe", "import portal.dashboard", "Imports point down"),
        ("volumes.probe", "from scheduler.models import Pool", "only through rpcapi"),
        ("agent.probe", "import volumes.flows", "only through rpcapi"),
    ],
)
def test_a_wrong_import_breaks_a_contract(tree_copy, module, bad_import, contract):
    add_module(tree_copy, module, f"def later():\n    {bad_import}\n")

    result = lint_imports(tree_copy)

    assert result.returncode == 1
    broken = result.stdout.split("Broken contracts")[1]
    assert contract in broken and module in broken


def test_a_service_may_cast_to_another_through_its_rpcapi(tree_copy):
    add_module(tree_copy, "volumes.probe", "from agent import rpcapi\n")

    assert lint_imports(tree_copy).returncode == 0


def test_no_cycle_between_top_level_packages():
    """Every import between packages counts (inside functions too), except rpcapi casts."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    edges: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for module in graph.modules:
        if ".migrations" in module:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            source, target = module.split(".")[0], imported.split(".")[0]
            if source != target and not imported.endswith(".rpcapi"):
                edges[source].add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in edges[start]
        )

    cycles = [package for package in PACKAGES if reaches(package, package, set())]
    assert cycles == [], {package: sorted(edges[package]) for package in PACKAGES}
    assert edges["core"] == set()
