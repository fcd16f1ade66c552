"""`make start` on a fresh FLASHMM_HOME with the embedded defaults, end to end: supervisord runs the sim
venue, the engine, dagster-webserver and dagster-daemon as real processes. The engine records the venue's
feed; `new_raw_segment` ingests it, `bootstrap_lifecycle` trains, validates, exports and promotes a first
model; the engine loads it. The test polls `flashmm status`, the ledger and Dagster's GraphQL endpoint until
the engine is ACTIVE on the pipeline's production version with fills in the ledger, the lineage down to
`live_trading` is materialized and every check of it passed; then `make stop` must leave no process of the
run behind.

It prints the time from `make start` to each milestone. The wait is bounded generously
(FLASHMM_E2E_BOOTSTRAP_TIMEOUT_S, default 1200 s) so that a loaded machine does not fail it; the issue's
10-minute target is judged from the printed figures on a quiet machine."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import dagster_api
from tests.e2e.supervised import free_port

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = float(os.environ.get("FLASHMM_E2E_BOOTSTRAP_TIMEOUT_S", "1200"))
POLL_S = 5.0
MAKE_TIMEOUT_S = 900.0
STOP_TIMEOUT_S = 180.0
LINEAGE = (
    "raw_segments",
    "market_events",
    "features",
    "training_set",
    "candidate_model",
    "model_validation",
    "exported_model",
    "production_model",
    "live_trading",
)
KEPT_ENV = ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONDONTWRITEBYTECODE")
"""The environment a newcomer's shell would have; no FLASHMM_* or DAGSTER_* of the test run leaks in."""

NUL = b"\0"
pytestmark = pytest.mark.timeout(TIMEOUT_S + 2 * MAKE_TIMEOUT_S)


class Run:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.dagster_port, self.control_port, self.sim_port = free_port(), free_port(), free_port()
        self.env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
        self.env |= {
            "FLASHMM_HOME": str(home),
            "FLASHMM_DAGSTER_PORT": str(self.dagster_port),
            "FLASHMM_CONTROL__PORT": str(self.control_port),
            "FLASHMM_SIM__PORT": str(self.sim_port),
        }
        self.started = time.monotonic()
        self.milestones: dict[str, float] = {}

    def make(self, target: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "-C", str(ROOT), target],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=MAKE_TIMEOUT_S,
        )

    def mark(self, name: str) -> None:
        if name not in self.milestones:
            self.milestones[name] = time.monotonic() - self.started
            print(f"  {self.milestones[name]:7.1f} s  {name}", flush=True)

    def status(self) -> dict[str, Any] | None:
        env = self.env | _secrets(self.home / "secrets.env")
        done = subprocess.run(
            [str(ROOT / ".venv/bin/flashmm"), "status"], env=env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            return None
        body: dict[str, Any] = json.loads(done.stdout)
        return body

    def ledger_fills(self) -> int:
        return _count(self.home / "flashmm.db", "SELECT count(*) FROM ledger_fills")

    def production(self) -> tuple[str, str] | None:
        rows = _rows(
            self.home / "flashmm.db",
            "SELECT version, path FROM model_versions WHERE name = 'flashmm' AND stage = 'production'",
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    def log(self, name: str) -> str:
        path = self.home / "log" / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _secrets(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        out[name] = value.strip("'")
    return out


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # tables not created yet
    finally:
        conn.close()


def _count(db: Path, sql: str) -> int:
    rows = _rows(db, sql)
    return int(rows[0][0]) if rows else 0


def _processes_of(home: Path) -> list[str]:
    """Every process whose environment names this run's FLASHMM_HOME (supervisord and all it started,
    code servers and run workers included: they inherit it)."""
    marker = f"FLASHMM_HOME={home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(NUL):
                command = (proc / "cmdline").read_bytes().replace(NUL, b" ")[:160]
                found.append(f"{proc.name}: {command!r}")
        except OSError:
            continue
    return found


def _wait(run: Run, what: str, check: Callable[[], bool]) -> None:
    deadline = run.started + TIMEOUT_S
    while time.monotonic() < deadline:
        if check():
            run.mark(what)
            return
        time.sleep(POLL_S)
    raise AssertionError(
        f"{what}: not reached {TIMEOUT_S:.0f} s after make start\n--- engine\n{run.log('engine')}"
        f"\n--- daemon\n{run.log('dagster-daemon.out')}"
    )


def test_make_start_bootstraps_a_pipeline_model_into_the_engine(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = Run(home)
    print(f"\nmake start (FLASHMM_HOME={home}, uptime: {os.getloadavg()})")
    started = run.make("start")
    assert started.returncode == 0, started.stdout + started.stderr
    run.mark("make start returned")
    try:
        _bootstrap(run)
    finally:
        stopped = run.make("stop")
        run.mark("make stop returned")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert _processes_of(home) == [], "processes left behind after make stop"
    print(f"milestones (s after make start): {json.dumps(run.milestones)}; load {os.getloadavg()}")


def _bootstrap(run: Run) -> None:
    status: dict[str, Any] = {}

    def engine_answers() -> bool:
        nonlocal status
        status = run.status() or {}
        return bool(status.get("ready"))

    _wait(run, "engine ready (control API answers)", engine_answers)
    assert status["model"]["version"] is None, "a fresh home has no model: the engine starts on plain AS"
    _wait(run, "first fill in the ledger", lambda: run.ledger_fills() > 0)
    _wait(run, "Dagster GraphQL answers", lambda: dagster_api.answers(run.dagster_port))
    _wait(run, "recording ingested (features materialized)", lambda: _materialized(run, "features"))
    _wait(run, "bootstrap lifecycle run launched", lambda: _bootstrap_runs(run) != [])
    _wait(run, "production model promoted", lambda: run.production() is not None)
    production = run.production()
    assert production is not None
    version, path = production

    def engine_serves_it() -> bool:
        nonlocal status
        status = run.status() or {}
        return bool(status.get("model", {}).get("version") == version)

    _wait(run, f"engine serves {version}", engine_serves_it)
    _wait(run, "live_trading observed the model", lambda: _live_version(run) == version)

    assert [m["state"] for m in status["markets"]] == ["active"], status["markets"]
    assert all(m["quoted_spread_ticks"] is not None for m in status["markets"]), "quotes both sides"
    assert run.ledger_fills() > 0
    assert Path(path).is_relative_to(run.home / "models"), path
    states = dagster_api.assets(run.dagster_port)
    assert states["candidate_model"].metadata.get("version") == version
    assert states["production_model"].metadata.get("version") == version
    for name in LINEAGE:
        asset = states[name]
        assert asset.materialized, f"{name} not materialized"
        assert all(s == "SUCCEEDED" for s in asset.checks.values()), f"{name} checks: {asset.checks}"
    checks = {f"{n}.{c}": s for n in LINEAGE for c, s in states[n].checks.items()}
    assert len(checks) >= 10, checks
    runs = _bootstrap_runs(run)
    assert any(r["status"] == "SUCCESS" for r in runs), runs
    print(f"production {version}; {len(checks)} checks passed; fills {run.ledger_fills()}")


def _materialized(run: Run, asset: str) -> bool:
    return dagster_api.assets(run.dagster_port)[asset].materialized


def _bootstrap_runs(run: Run) -> list[dict[str, Any]]:
    return [
        r
        for r in dagster_api.runs(run.dagster_port)
        if any(t["key"] == "flashmm/bootstrap" for t in r["tags"])
    ]


def _live_version(run: Run) -> str | None:
    return dagster_api.assets(run.dagster_port)["live_trading"].metadata.get("model_version")
