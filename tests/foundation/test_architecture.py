"""The house rules, checked: pure modules stay pure, no import cycles, every import points down the layers.

The layers (docs/DESIGN.md): a package may import only from packages in its own layer or below it. Lazy imports
(inside functions) count as well: they are the same dependency, only later.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.foundation.pure_modules import PURE  # numpy in, numpy out; also type-checked by .ci/run

SRC = Path(__file__).resolve().parents[2] / "src" / "subsidence"

#: lowest first; packages in one tuple are peers (they may import each other, but no module cycle may form)
LAYERS: list[tuple[str, ...]] = [
    ("vocabulary", "errors", "settings", "logs"),
    ("geo", "workdays"),
    ("science", "io", "render"),
    ("insar", "census_kernels"),
    ("db",),
    ("core",),
    ("access",),
    ("ledger",),
    ("census", "plans", "monitoring"),
    ("tasks",),
    ("prediction", "ops"),
    ("gate", "mapping", "overview", "organisation"),
    ("interchange",),
    ("reports",),
    ("schema",),
    ("api", "web", "cli", "demo"),
]

FORBIDDEN = ("sqlalchemy", "fastapi", "typer")

#: census/kernels/ is pure computation, a layer of its own beside insar; the rest of census is its persistence


def _modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        rel = p.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(mods: dict[str, Path]) -> dict[str, set[tuple[str, bool]]]:
    """module -> {(imported subsidence module, lazy?)}; TYPE_CHECKING blocks are left out."""
    edges: dict[str, set[tuple[str, bool]]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = set(map(id, tree.body))
        skip: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip.update(id(n) for n in ast.walk(node))
        found = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module for a in node.names
                ]
            for t in targets:
                if t.startswith("subsidence.") and t in mods and t != name:
                    found.add((t, id(node) not in top))
        edges[name] = found
    return edges


def _layer_of(module: str) -> int | None:
    parts = module.split(".")
    pkg = parts[1] if len(parts) > 1 else ""
    if pkg == "census" and len(parts) > 2 and parts[2] == "kernels":
        pkg = "census_kernels"
    for i, group in enumerate(LAYERS):
        if pkg in group:
            return i
    return None


def test_every_package_has_a_layer():
    pkgs = {m.split(".")[1] for m in _modules() if m.count(".") >= 1}
    known = {p for g in LAYERS for p in g} | {"census_kernels"}
    assert sorted(pkgs - known) == [], "add the new package to LAYERS here and to docs/DESIGN.md"


def test_imports_point_down_the_layers():
    edges = _imports(_modules())
    wrong = sorted(
        f"{a} -> {b}{' (lazy)' if lazy else ''}"
        for a, bs in edges.items()
        for b, lazy in bs
        if _layer_of(a) is not None and _layer_of(b) is not None and _layer_of(b) > _layer_of(a)
    )
    assert wrong == [], "imports that point up the layers:\n" + "\n".join(wrong)


def test_no_import_cycles():
    edges = {a: {b for b, _ in bs} for a, bs in _imports(_modules()).items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert cycles == [], f"import cycles: {cycles}"


def _check_pure(module: str) -> tuple[str, list[str]]:
    code = f"import sys, {module}\nprint(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return module, [m for m in out.stdout.strip().split(",") if m]


def test_pure_modules_import_no_database_web_or_cli():
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(_check_pure, PURE))
    dirty = {m: bad for m, bad in results.items() if bad}
    assert dirty == {}, f"pure modules that pull in {FORBIDDEN}: {dirty}"


@pytest.mark.parametrize("folder", sorted({p.parent for p in SRC.rglob("*.py")} - {SRC}, key=str))
def test_no_package_is_a_warehouse(folder: Path):
    """A package folder holds at most about 4,000 lines of its own modules (issue: the flat services/ room)."""
    if "migrations" in folder.parts:
        pytest.skip("migrations are generated history")
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py"))
    assert lines <= 4300, f"{folder.relative_to(SRC)} has {lines} lines: split it by domain noun"
