"""Dependencies point one way (ARCHITECTURE section 3) and names say what differs: checked on the source."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import flashmm_engine

ROOT = Path(flashmm_engine.__file__).parent


def imports(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[path] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path, names in imports(package).items()
        for name in names
        if name.startswith(forbidden)
    )


def test_venues_depend_on_neither_the_trading_core_nor_the_backtester() -> None:
    core = tuple(f"flashmm_engine.{p}" for p in ("strategy", "risk", "execution", "backtest", "engine"))
    assert offenders("venues", core) == []


def test_the_trading_core_depends_on_no_venue_and_no_backtest() -> None:
    for package in ("strategy", "risk", "execution"):
        assert (
            offenders(package, ("flashmm_engine.venues", "flashmm_engine.backtest", "flashmm_engine.engine"))
            == []
        )


def test_module_and_class_names_are_unique() -> None:
    modules = Counter(p.name for p in ROOT.rglob("*.py") if p.name != "__init__.py")
    assert modules["columns.py"] <= 1 and "setup.py" not in modules
    classes = Counter(
        node.name
        for path in ROOT.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
    )
    assert classes["OrderTracker"] <= 1 and classes["BookTop"] == 1
