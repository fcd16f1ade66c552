"""Real Dagster processes for the end-to-end tests: dagster-webserver and dagster-daemon on loopback, with
PostgreSQL run/event/schedule storage (the deploy/dagster-postgres.yaml instance) in a database created for
the test, the webserver's GraphQL API as the client, and `flashmm engine run` as a subprocess.

Every process is started in its own session and stopped by its process group (the webserver and daemon
start code servers and run workers of their own): SIGTERM, then SIGKILL after a grace period."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import requests
import sqlalchemy as sa

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[3]
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STOP_GRACE_S = 30.0
POLL_S = 0.2
HTTP_TIMEOUT_S = 30.0

T = TypeVar("T")


@contextmanager
def dagster_database() -> Iterator[str]:
    """A fresh PostgreSQL database for Dagster's storage; its URL. Dropped afterwards."""
    name = f"dagster_e2e_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def dagster_home(tmp: Path) -> Path:
    """A DAGSTER_HOME holding the project's PostgreSQL instance config (storage from $DAGSTER_PG_URL)."""
    home = tmp / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    return home


class Process:
    """A subprocess in its own session, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        """SIGTERM to the process group, SIGKILL after the grace period; the exit code."""
        try:
            if self.alive():
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
            _kill_group_leftovers(self.proc.pid)
        finally:
            self._log.close()
        return self.proc.returncode


def _kill_group_leftovers(pgid: int) -> None:
    """Children of the group that outlived their parent (a run worker mid-step) are killed too."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return


@contextmanager
def process(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Iterator[Process]:
    proc = Process(name, argv, env, log_dir)
    try:
        yield proc
    finally:
        proc.stop()


def wait_for(what: str, check: Callable[[], T | None], timeout_s: float, *procs: Process) -> T:
    """Poll `check` until it returns a value; fail with the processes' logs after `timeout_s`, or at once
    when one of them exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value is not None:
            return value
        for proc in procs:
            if not proc.alive():
                code = proc.proc.returncode
                raise AssertionError(f"{proc.name} exited ({code}) while waiting for {what}:\n{proc.log()}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.log()}" for p in procs)
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}\n{logs}")
        time.sleep(POLL_S)


def webserver_argv(port: int) -> list[str]:
    return [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"]


def daemon_argv() -> list[str]:
    return [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"]


class GraphQL:
    """The webserver's GraphQL endpoint."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            self.url, json={"query": text, "variables": variables or {}}, timeout=HTTP_TIMEOUT_S
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def ready(self) -> bool | None:
        """True once the code location is loaded (None before: the server or the location is not up)."""
        try:
            data = self.query(LOCATIONS)
        except requests.ConnectionError:
            return None
        entries = data["workspaceOrError"].get("locationEntries", [])
        loaded = [e for e in entries if e["locationOrLoadError"]["__typename"] == "RepositoryLocation"]
        errors = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
        assert not errors, errors
        return True if loaded else None

    def location(self) -> tuple[str, str]:
        """(location name, repository name) of the one code location."""
        data = self.query(LOCATIONS)
        (entry,) = data["workspaceOrError"]["locationEntries"]
        (repo,) = entry["locationOrLoadError"]["repositories"]
        return entry["name"], repo["name"]

    def launch_assets(self, assets: list[str]) -> str:
        """Launch a run materializing `assets` (the UI's "Materialize" button); its run id."""
        location, repo = self.location()
        params = {
            "selector": {
                "repositoryLocationName": location,
                "repositoryName": repo,
                "jobName": "__ASSET_JOB",
                "assetSelection": [{"path": [a]} for a in assets],
                "assetCheckSelection": [],
            },
            "runConfigData": {},
            "mode": "default",
        }
        launched = self.query(LAUNCH, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id: str = launched["run"]["runId"]
        return run_id

    def run_status(self, run_id: str) -> str:
        status: str = self.query(RUN, {"runId": run_id})["runOrError"]["status"]
        return status

    def materializations(self, asset: str) -> list[dict[str, Any]]:
        """The asset's materializations, newest first: runId, timestamp (ms, string) and metadata."""
        data = self.query(MATERIALIZATIONS, {"key": {"path": [asset]}})["assetOrError"]
        if data["__typename"] != "Asset":
            return []
        rows: list[dict[str, Any]] = data["assetMaterializations"]
        return rows


LOCATIONS = """
query { workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  __typename ... on RepositoryLocation { repositories { name } } ... on PythonError { message } } } } } }
"""
LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message stack }
  ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }
"""
RUN = "query($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"
MATERIALIZATIONS = """
query($key: AssetKeyInput!) { assetOrError(assetKey: $key) { __typename ... on Asset {
  assetMaterializations(limit: 5) { runId timestamp metadataEntries { label
    ... on TextMetadataEntry { text } } } } } }
"""
