"""Real supervisord for end-to-end tests: a generated config in a tmp dir running `flashmm venue sim` and
`flashmm engine run` as programs, controlled with supervisorctl; plus read-only views of the ledger and
the venue account for the checks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from flashmm_engine.types import Fill
from flashmm_engine.venues.sim.client import SimVenueClient

BIN = Path(sys.executable).parent
KEY = "e2e-engine-key"
START_TIMEOUT_S = 60.0
POLL_S = 0.2

CONFIG = """
[unix_http_server]
file={tmp}/supervisor.sock

[supervisord]
logfile={tmp}/supervisord.log
pidfile={tmp}/supervisord.pid
childlogdir={tmp}
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{tmp}/supervisor.sock

[program:venue-sim]
command={bin}/flashmm venue sim
directory={tmp}
priority=10
autorestart=true
startsecs=1
stopsignal=TERM
stopwaitsecs=10
stdout_logfile={tmp}/venue.out.log
stderr_logfile={tmp}/venue.log

[program:engine]
command={bin}/flashmm engine run
directory={tmp}
priority=20
autorestart=true
startsecs=1
startretries=20
stopsignal=TERM
stopwaitsecs=10
stdout_logfile={tmp}/engine.out.log
stderr_logfile={tmp}/engine.log
"""


@dataclass
class Supervised:
    tmp: Path
    port: int
    ledger_path: Path

    def ctl(self, *args: str) -> str:
        out = subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(self.tmp / "supervisord.conf"), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout.strip()

    def pid(self, program: str) -> int:
        text = self.ctl("pid", program)
        return int(text) if text.isdigit() else 0

    def wait_running(self, program: str, not_pid: int = 0) -> int:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            pid = self.pid(program)
            if pid and pid != not_pid:
                return pid
            time.sleep(POLL_S)
        raise AssertionError(f"{program} not running: {self.ctl('status')}\n{self.log('engine')[-3000:]}")

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if not self.ledger_path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.ledger_path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []  # the tables do not exist yet
        finally:
            conn.close()

    def count(self, sql: str, *params: Any) -> int:
        rows = self.query(sql, *params)
        return int(rows[0][0]) if rows else 0

    def count_events(self, kind: str) -> int:
        return self.count("SELECT count(*) FROM ledger_events WHERE kind = ?", kind)

    def wait_for(self, what: str, check: Any, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(POLL_S)
        raise AssertionError(f"timed out waiting for {what}\n{self.log('engine')[-3000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def supervised(tmp: Path, port: int, extra_env: dict[str, str] | None = None) -> Iterator[Supervised]:
    (tmp / "supervisord.conf").write_text(CONFIG.format(tmp=tmp, bin=BIN))
    ledger = tmp / "ledger.db"
    env = {
        **os.environ,
        "FLASHMM_SIM__PORT": str(port),
        "FLASHMM_SIM__API_KEYS": f'{{"mm": "{KEY}"}}',
        "FLASHMM_ENGINE__LEDGER_URL": f"sqlite:///{ledger}",
        "FLASHMM_DATABASE__URL": f"sqlite:///{tmp / 'registry.db'}",
        "FLASHMM_ENGINE__RECONCILE_INTERVAL_S": "2",
        **(extra_env or {}),
    }
    proc = subprocess.Popen(
        [str(BIN / "supervisord"), "-c", str(tmp / "supervisord.conf")],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    handle = Supervised(tmp, port, ledger)
    try:
        yield handle
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class VenueAccount:
    position: int
    cash: int | None
    open_ours: int
    fills: list[Fill]


async def venue_account(port: int, market: str, prefix: str) -> VenueAccount:
    """The venue's view of the engine's account, with every fill it ever sent (replayed from event 0)."""
    from flashmm_engine.engine.links import SimLink

    client = SimVenueClient(f"ws://127.0.0.1:{port}", SecretStr(KEY))
    await client.connect()
    try:
        link = SimLink(client, market)
        view = await link.snapshot()
        assert view.seq is not None
        fills: list[Fill] = []
        events = client.events()
        while client.delivered_seq < view.seq:
            event = await asyncio.wait_for(anext(events), 10)
            if isinstance(event, Fill):
                fills.append(event)
        opens = [o for o in await client.open_orders(market) if o.client_id.startswith(prefix)]
        return VenueAccount(view.position, view.cash, len(opens), fills)
    finally:
        await client.close()
