"""Drill: the ledger's PostgreSQL stops for 30 s in the middle of a run (issue 14, process drills).

A throwaway PostgreSQL (its own data directory and port: the shared server stays up) holds the ledger of
an engine quoting against the real sim venue process. The server is stopped with `pg_ctl stop -m fast`
once fills are being committed, kept down until the engine has journaled fills locally and 30 s have
passed, then started again. Checked: every venue fill is in the ledger exactly once, the ledger position
and cash equal the venue's, no batch with a new order went out while fills were durable only in the local
journal, the market quoted again after the catch-up reconcile, and no order of ours is left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.market_task import LEDGER_UNAVAILABLE, MarketRunner
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.ledger.store import Ledger
from flashmm_engine.types import QuoteBatch, TradingState
from tests.e2e.supervised import venue_account
from tests.integration.sim_process import sim_venue_process
from tests.integration.test_engine_bad_input import KEY, MARKET, venue_env, wait_until

VENUE_ID = f"sim/{MARKET}"
OUTAGE_S = 30.0
FILLS_BEFORE = 2
FILLS_DURING = 1
"""The outage lasts until the engine journaled a fill locally (and at least OUTAGE_S). One: the first
halts the market, so only fills of orders already resting (or cancels racing them) can follow."""
WAIT_S = 240.0
PG_TIMEOUT_S = 120


class ThrowawayPostgres:
    """A PostgreSQL server of our own (run as `postgres`: it refuses root) that the drill stops/starts."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.root = bindir, root
        self.data = root / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=PG_TIMEOUT_S)

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.root}",
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            str(PG_TIMEOUT_S),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not dirs or (os.getuid() == 0 and shutil.which("runuser") is None):
        pytest.fail("no PostgreSQL binaries under /usr/lib/postgresql/*/bin (scripts/ensure-services.sh)")
    root = Path(tempfile.mkdtemp(prefix="flashmm-pg-drill-"))
    root.chmod(0o755)
    if os.getuid() == 0:
        shutil.chown(root, "postgres")
    server = ThrowawayPostgres(Path(dirs[-1]), root)
    server.init()
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


class SentBatches:
    """Every batch the engine hands to the venue link, with whether the market was journaling fills."""

    def __init__(self, runner: MarketRunner) -> None:
        self.places_while_degraded = 0
        self.places_after_recovery = 0
        self.runner = runner
        original = runner.link.send

        async def send(batch: QuoteBatch) -> None:
            if batch.places:
                if runner.ledger_degraded or runner.core.state.reason == LEDGER_UNAVAILABLE:
                    self.places_while_degraded += len(batch.places)
                elif runner.stats.ledger_recoveries:
                    self.places_after_recovery += len(batch.places)
            await original(batch)

        runner.link.send = send  # type: ignore[method-assign]


async def test_postgres_outage_loses_no_fill_and_places_nothing_until_reconciled(tmp_path: Path) -> None:
    with throwaway_postgres() as pg, sim_venue_process([], venue_env(), tmp_path) as started:
        settings = Settings(
            home=tmp_path / "home",
            engine=EngineSettings(
                markets=[MARKET],
                sim_urls={MARKET: started["url"]},
                ledger_url=SecretStr(pg.url),
                reconcile_interval_s=1.0,
            ),
            sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
        )
        runtime = EngineRuntime(settings, [MARKET])
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        await asyncio.wait_for(runtime.started.wait(), WAIT_S)
        (runner,) = runtime.runners
        sent = SentBatches(runner)
        await wait_until(lambda: runner.stats.fills_recorded >= FILLS_BEFORE, WAIT_S)
        assert runner.core.state.state is TradingState.ACTIVE

        await asyncio.to_thread(pg.stop, "fast")
        stopped_at = time.monotonic()
        await wait_until(lambda: runner.stats.fills_journaled >= FILLS_DURING, WAIT_S)
        halted = runner.core.state
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))
        outage_s = time.monotonic() - stopped_at
        journaled_in_outage = runner.stats.fills_journaled
        await asyncio.to_thread(pg.start)

        await wait_until(lambda: runner.stats.ledger_recoveries >= 1, WAIT_S)
        await wait_until(lambda: sent.places_after_recovery > 0, WAIT_S)
        resumed = runner.core.state
        stop.set()
        await task
        port = int(started["url"].rsplit(":", 1)[1])
        account = await venue_account(port, MARKET, "e1-")
        ledger = Ledger(pg.url, migrate=False)  # what the restarted server holds, read afresh
        ledger_ids = Counter(ledger.fill_ids(VENUE_ID))
        held = ledger.holdings(VENUE_ID, MARKET)
        ledger.close()
    assert held is not None
    venue_ids = Counter(f.fill_id for f in account.fills if f.market == MARKET)
    missing = sum((venue_ids - ledger_ids).values())
    doubled = sum(n - 1 for n in ledger_ids.values() if n > 1) + sum((ledger_ids - venue_ids).values())
    position_diff = held.book.position - account.position
    print(
        f"\npostgres outage drill: faults 1 (down {outage_s:.1f}s), fills journaled locally "
        f"{journaled_in_outage}, venue fills {sum(venue_ids.values())}, ledger fills "
        f"{sum(ledger_ids.values())}, fills lost {missing}, fills doubled {doubled}, orphan orders "
        f"{account.open_ours}, places while undurable {sent.places_while_degraded}, worst time to recover "
        f"{runner.stats.worst_recovery_s:.1f}s, position difference {position_diff}"
    )
    assert halted.state is TradingState.HALTED and halted.reason == LEDGER_UNAVAILABLE
    assert resumed.state is TradingState.ACTIVE
    assert missing == 0 and doubled == 0
    assert position_diff == 0 and held.cash == account.cash
    assert sent.places_while_degraded == 0
    assert account.open_ours == 0
