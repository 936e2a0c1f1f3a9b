"""The pure modules: numpy/scipy in, numpy out; no SQLAlchemy, FastAPI or Typer at import.

One list, read by tests/foundation/test_architecture.py (the purity test) and by .ci/run (type checking):
``python -m tests.foundation.pure_modules --paths`` prints each module's source file, one per line.
"""

from __future__ import annotations

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PURE = [
    "subsidence.vocabulary",
    "subsidence.errors",
    "subsidence.geo",
    "subsidence.science",
    "subsidence.science.pim",
    "subsidence.science.dynamics",
    "subsidence.science.inversion",
    "subsidence.science.stability",
    "subsidence.science.damage",
    "subsidence.insar.sbas",
    "subsidence.insar.convention",
    "subsidence.insar.synthetic",
    "subsidence.census.kernels.basins",
    "subsidence.census.kernels.grid",
    "subsidence.census.kernels.fusion",
    "subsidence.census.kernels.change",
    "subsidence.census.kernels.vegetation",
    "subsidence.census.kernels.pv",
    "subsidence.census.kernels.attribution",
    "subsidence.monitoring.warning.methods",
    "subsidence.monitoring.warning.levels",
    "subsidence.monitoring.warning.machine",
    "subsidence.monitoring.warning.analysis",
    "subsidence.monitoring.warning.forecasting",
    "subsidence.science.advance",
    "subsidence.census.kernels.levels",
    "subsidence.tasks.inspections.draw",
    "subsidence.plans.rules",
    "subsidence.workdays",
]


def module_path(module: str) -> Path:
    """The source file of a module under src/ (``pkg/__init__.py`` for a package), found without importing it."""
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"pure module {module} has no source file under {SRC}")


def main(argv: list[str]) -> int:
    if argv != ["--paths"]:
        print("usage: python -m tests.foundation.pure_modules --paths", file=sys.stderr)
        return 2
    root = SRC.parent
    for module in PURE:
        print(module_path(module).relative_to(root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
