"""Driving `make start`/`make start-full` as a newcomer would and watching the system bootstrap: the engine's
status through `flashmm status`, the SQL store (ledger fills, the registry's production version) and Dagster's
GraphQL endpoint; each milestone is printed with its time since `make start`."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

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


class Run:
    def __init__(self, home: Path, database_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.home = home
        self.database_url = database_url
        self.dagster_port, self.control_port, self.sim_port = free_port(), free_port(), free_port()
        self.env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
        self.env |= {
            "FLASHMM_HOME": str(home),
            "FLASHMM_DAGSTER_PORT": str(self.dagster_port),
            "FLASHMM_CONTROL__PORT": str(self.control_port),
            "FLASHMM_SIM__PORT": str(self.sim_port),
            **(extra_env or {}),
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
        rows = self.query("SELECT count(*) FROM ledger_fills")
        return int(rows[0][0]) if rows else 0

    def production(self) -> tuple[str, str] | None:
        rows = self.query(
            "SELECT version, path FROM model_versions WHERE name = 'flashmm' AND stage = 'production'"
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a read; none while the tables do not exist yet (the engine creates them at start)."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql))]
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            return []
        finally:
            engine.dispose()

    def log(self, name: str) -> str:
        path = self.home / "log" / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _secrets(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        out[name] = value.strip("'")
    return out


def processes_of(home: Path) -> list[str]:
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


def wait(run: Run, what: str, check: Callable[[], bool]) -> None:
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


def bootstrap(run: Run) -> None:
    status: dict[str, Any] = {}

    def engine_answers() -> bool:
        nonlocal status
        status = run.status() or {}
        return bool(status.get("ready"))

    wait(run, "engine ready (control API answers)", engine_answers)
    assert status["model"]["version"] is None, "a fresh home has no model: the engine starts on plain AS"
    wait(run, "first fill in the ledger", lambda: run.ledger_fills() > 0)
    wait(run, "Dagster GraphQL lists the assets", lambda: set(LINEAGE) <= set(_assets(run)))
    wait(run, "recording ingested (features materialized)", lambda: _materialized(run, "features"))
    wait(run, "bootstrap lifecycle run launched", lambda: _bootstrap_runs(run) != [])
    wait(run, "production model promoted", lambda: run.production() is not None)
    production = run.production()
    assert production is not None
    version, path = production

    def engine_serves_it() -> bool:
        nonlocal status
        status = run.status() or {}
        return bool(status.get("model", {}).get("version") == version)

    wait(run, f"engine serves {version}", engine_serves_it)
    wait(run, "live_trading observed the model", lambda: _live_version(run) == version)

    assert [m["state"] for m in status["markets"]] == ["active"], status["markets"]
    assert all(m["quoted_spread_ticks"] is not None for m in status["markets"]), "quotes both sides"
    assert run.ledger_fills() > 0
    assert Path(path).is_relative_to(run.home / "models"), path
    states: dict[str, dagster_api.AssetState] = {}

    def lineage_green() -> bool:
        # ingestion goes on meanwhile: a run that has just started shows its checks in progress, so wait
        # for a moment when the latest materialization of every asset has all its checks passed
        nonlocal states
        states = _assets(run)
        return all(
            n in states
            and states[n].materialized
            and all(s == "SUCCEEDED" for s in states[n].checks.values())
            for n in LINEAGE
        )

    try:
        wait(run, "lineage materialized, every check passed", lineage_green)
    except AssertionError as exc:
        seen = {n: (states[n].materialized, states[n].checks) for n in LINEAGE if n in states}
        raise AssertionError(f"{exc}\nlast seen: {seen}") from None
    assert states["candidate_model"].metadata.get("version") == version
    assert states["production_model"].metadata.get("version") == version
    checks = {f"{n}.{c}": s for n in LINEAGE for c, s in states[n].checks.items()}
    assert len(checks) >= 10, checks
    runs = _bootstrap_runs(run)
    assert any(r["status"] == "SUCCESS" for r in runs), runs
    print(f"production {version}; {len(checks)} checks passed; fills {run.ledger_fills()}")


def _assets(run: Run) -> dict[str, dagster_api.AssetState]:
    """The assets as GraphQL shows them; none while the webserver is (re)starting."""
    try:
        return dagster_api.assets(run.dagster_port)
    except (OSError, ValueError):
        return {}


def _materialized(run: Run, asset: str) -> bool:
    """False also while the code location is still loading (no asset nodes yet)."""
    state = _assets(run).get(asset)
    return state is not None and state.materialized


def _bootstrap_runs(run: Run) -> list[dict[str, Any]]:
    return [
        r
        for r in dagster_api.runs(run.dagster_port)
        if any(t["key"] == "flashmm/bootstrap" for t in r["tags"])
    ]


def _live_version(run: Run) -> str | None:
    state = _assets(run).get("live_trading")
    return None if state is None else state.metadata.get("model_version")


def started_and_stopped(run: Run, start: str, stop: str, body: Callable[[Run], None]) -> None:
    """`make <start>`, the body, then `make <stop>` whatever happened; nothing of the run may be left."""
    print(f"\nmake {start} (FLASHMM_HOME={run.home}, load {os.getloadavg()})")
    started = run.make(start)
    assert started.returncode == 0, started.stdout + started.stderr
    run.mark(f"make {start} returned")
    try:
        body(run)
    finally:
        stopped = run.make(stop)
        run.mark(f"make {stop} returned")
        print(f"milestones (s after make {start}): {json.dumps(run.milestones)}; load {os.getloadavg()}")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert processes_of(run.home) == [], "processes left behind after make stop"
