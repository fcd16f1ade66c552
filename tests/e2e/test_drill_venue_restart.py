"""Drill: the sim venue process is restarted 10 times in the middle of a run, under real supervisord
(issue 14, process drills).

The venue keeps its accounts in `sim.state_file`; each restart is a new venue session with an empty book.
Each time, after a seeded number of new orders, `supervisorctl restart venue-sim`; then the engine must
switch its ledger to the new session (the old session's working orders expired, the cursor restarted),
reconcile against it and quote again. An observer client on the same account sees every fill of every
session (it resumes each new session from its first event). Per restart: working orders of the old session
still open in the ledger (orphans), fills of that session lost or doubled in the ledger, time from the
restart command to the first new order, and the ledger position at the reconcile against the venue's
position replayed from the observed fills. All 0 except the time; at the end no order of ours rests at the
venue and the ledger's position and cash equal the venue's.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashmm_engine.engine.links import SimLink
from flashmm_engine.service.backoff import Backoff
from flashmm_engine.types import Fill, VenueSession
from flashmm_engine.venues.base import VenueError
from flashmm_engine.venues.sim.client import SimVenueClient
from tests.e2e.supervised import KEY, Supervised, free_port, supervised, venue_account

MARKET = "SIM:ETHUSD"
RESTARTS = 10
SEED = 20261202
WORKING = "('pending', 'open', 'partially_filled', 'unknown')"
OBSERVER_POLL_S = 0.2
FIRST_START_S = 600.0
DRILL_TIMEOUT_S = 1800
"""The engine's first start imports torch and numba code: minutes on a loaded machine."""


@dataclass
class Observer:
    """A second connection of the engine's account, in its own thread: every fill by venue session."""

    port: int
    fills: list[tuple[str, Fill]] = field(default_factory=list)
    first_position: int | None = None
    first_session: str | None = None
    errors: list[BaseException] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="observer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    async def _run(self) -> None:
        client = SimVenueClient(f"ws://127.0.0.1:{self.port}", SecretStr(KEY), Backoff(max_s=0.5))
        deadline = time.monotonic() + FIRST_START_S
        while True:  # supervisord says RUNNING a second after the spawn: the venue may not listen yet
            try:
                await client.connect()
                break
            except VenueError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(OBSERVER_POLL_S)
        session = client.session
        assert session is not None
        view = await SimLink(client, MARKET).snapshot()
        assert view.seq is not None
        self.first_session = session
        position_at_snapshot, snapshot_seq = view.position, view.seq
        if snapshot_seq == 0:
            self.first_position = view.position
        events = client.events()
        try:
            while not self._stop.is_set():
                try:
                    event = await asyncio.wait_for(anext(events), OBSERVER_POLL_S)
                except TimeoutError:
                    continue
                if isinstance(event, VenueSession):
                    session = event.session
                elif isinstance(event, Fill):
                    self.fills.append((session, event))
                    if session == self.first_session and client.delivered_seq <= snapshot_seq:
                        position_at_snapshot -= event.side.sign * event.size
                if self.first_position is None and client.delivered_seq >= snapshot_seq:
                    self.first_position = position_at_snapshot  # before the session's first event
        finally:
            await client.close()


def session_reconciles(sv: Supervised) -> list[tuple[int, str, int]]:
    """(ts_ns, session, ledger position) of every reconcile against a new venue session."""
    rows = sv.query(
        "SELECT ts_ns, json_extract(detail, '$.session'), json_extract(detail, '$.position') "
        "FROM ledger_events WHERE kind = 'reconciled' AND json_extract(detail, '$.phase') = 'venue_session' "
        "ORDER BY id"
    )
    return [(int(a), str(b), int(c)) for a, b, c in rows]


@pytest.mark.timeout(DRILL_TIMEOUT_S)
def test_venue_restarted_ten_times_loses_doubles_and_orphans_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    schedule = [rng.randint(3, 15) for _ in range(RESTARTS)]
    port = free_port()
    observer = Observer(port)
    per_restart: list[dict[str, object]] = []
    with supervised(tmp_path, port, {"FLASHMM_SIM__STATE_FILE": str(tmp_path / "accounts.json")}) as sv:
        sv.wait_running("venue-sim")
        observer.start()
        sv.wait_running("engine")
        sv.wait_for("the start-up reconciliation", lambda: sv.count_events("reconciled") >= 1, FIRST_START_S)
        for i, orders_before in enumerate(schedule):
            base = sv.count("SELECT count(*) FROM ledger_orders")
            sv.wait_for(
                f"{orders_before} new orders",
                lambda b=base, k=orders_before: sv.count("SELECT count(*) FROM ledger_orders") >= b + k,
            )
            restarted_ns = time.time_ns()
            assert "started" in sv.ctl("restart", "venue-sim")
            sv.wait_for(
                f"reconcile #{i + 1} against a new session", lambda n=i + 1: len(session_reconciles(sv)) >= n
            )
            reconciled_ns, session, ledger_position = session_reconciles(sv)[i]
            sv.wait_for(
                "an order in the new session",
                lambda t=reconciled_ns: (
                    sv.count("SELECT count(*) FROM ledger_orders WHERE created_ns > ?", t) > 0
                ),
            )
            first_order_ns = sv.query(
                "SELECT min(created_ns) FROM ledger_orders WHERE created_ns > ?", reconciled_ns
            )[0][0]
            orphans = sv.count(
                f"SELECT count(*) FROM ledger_orders WHERE created_ns < ? AND status IN {WORKING}",
                restarted_ns,
            )
            per_restart.append(
                {
                    "restart": i + 1,
                    "session": session,
                    "orphan_orders": orphans,
                    "ledger_position": ledger_position,
                    "seconds_to_recover": round((first_order_ns - restarted_ns) / 1e9, 2),
                }
            )
        assert "stopped" in sv.ctl("stop", "engine")
        account = asyncio.run(venue_account(port, MARKET, "e1-"))
        observer.stop()
        ledger_fills = [r[0] for r in sv.query("SELECT fill_id FROM ledger_fills")]
        (position,) = sv.query("SELECT position FROM ledger_positions WHERE market = ?", MARKET)[0]
        (cash,) = sv.query("SELECT cash FROM ledger_cash WHERE market = ?", MARKET)[0]
        halts = sv.query("SELECT detail FROM ledger_events WHERE kind = 'state_change'")
    assert not observer.errors, observer.errors
    assert observer.first_position is not None
    assert observer.first_session is not None
    venue_ids = Counter(f.fill_id for _, f in observer.fills)
    ledger_ids = Counter(ledger_fills)
    ended = [observer.first_session] + [str(f["session"]) for f in per_restart[:-1]]
    venue_position = observer.first_position
    for figures, old in zip(per_restart, ended, strict=True):
        of_session = Counter(f.fill_id for t, f in observer.fills if t == old)
        in_ledger = Counter({k: ledger_ids[k] for k in of_session if k in ledger_ids})
        figures["fills"] = sum(of_session.values())
        figures["fills_lost"] = sum((of_session - in_ledger).values())
        figures["fills_doubled"] = sum(c - 1 for c in in_ledger.values() if c > 1)
        venue_position += sum(f.side.sign * f.size for t, f in observer.fills if t == old)
        figures["position_difference"] = int(str(figures["ledger_position"])) - venue_position
    for figures in per_restart:
        print(f"\nvenue restart drill: {figures}")
    missing = sum((venue_ids - ledger_ids).values())
    doubled = sum((ledger_ids - venue_ids).values()) + sum(c - 1 for c in ledger_ids.values() if c > 1)
    print(
        f"venue restart drill: {RESTARTS} restarts after {schedule} new orders; venue fills "
        f"{sum(venue_ids.values())}, "
        f"ledger fills {len(ledger_fills)}, lost {missing}, doubled {doubled}, orphan orders at the venue "
        f"{account.open_ours}, worst time to recover "
        f"{max(float(str(f['seconds_to_recover'])) for f in per_restart):.2f}s, position ledger/venue "
        f"{position}/{account.position}, cash ledger/venue {cash}/{account.cash}"
    )
    assert len(per_restart) == RESTARTS
    assert all(f["orphan_orders"] == 0 and f["position_difference"] == 0 for f in per_restart), per_restart
    assert all(f["fills_lost"] == 0 and f["fills_doubled"] == 0 for f in per_restart), per_restart
    assert missing == 0 and doubled == 0
    assert account.open_ours == 0
    assert position == account.position and cash == account.cash
    assert not any("mismatch" in str(h) for h in halts), halts
