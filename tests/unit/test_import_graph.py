"""The dependency direction of ARCHITECTURE section 3, checked on every module's imports (parsed with ast).

Not asserted here yet: `venues/sim` must not import `backtest/` (today `venues/sim/drivers.py` imports
`backtest.session`); that layering belongs to the engine work and gets its assertion with the fix.
"""

from __future__ import annotations

import ast
from pathlib import Path

import flashmm_engine

PACKAGE = Path(flashmm_engine.__file__).parent


def imports_of(path: Path) -> set[str]:
    """Every module an import statement of `path` names (function-level imports included)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def offenders(paths: list[Path], forbidden: str) -> dict[str, list[str]]:
    bad = {}
    for path in paths:
        hits = sorted(
            name for name in imports_of(path) if name == forbidden or name.startswith(forbidden + ".")
        )
        if hits:
            bad[str(path.relative_to(PACKAGE.parent))] = hits
    return bad


def test_the_checker_sees_imports() -> None:
    names = imports_of(PACKAGE / "venues" / "binance" / "source.py")
    assert "flashmm_engine.marketdata.source" in names and "flashmm_engine.venues.binance.batch" in names
    assert offenders([PACKAGE / "venues" / "captures.py"], "flashmm_engine.venues.binance")


def test_marketdata_is_venue_neutral() -> None:
    assert len(modules_under("marketdata")) >= 8
    assert offenders(modules_under("marketdata"), "flashmm_engine.venues") == {}


def test_flashmm_engine_never_imports_dagster() -> None:
    assert offenders(sorted(PACKAGE.rglob("*.py")), "dagster") == {}
