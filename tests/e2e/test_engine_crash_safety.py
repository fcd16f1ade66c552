"""Crash safety under real supervisord: the engine is SIGKILLed KILLS times (10 in CI; the issue 14 drill
runs 50: FLASHMM_DRILL_KILLS=50), each time after a seeded number of new orders reached its ledger;
supervisord restarts it and it reconciles before any new order. The time to recover is from the kill to
the restarted engine's reconciliation.
Afterwards: no order of ours left at the venue, no fill counted twice or missing, and the ledger's position
and cash equal the venue's."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.supervised import free_port, supervised, venue_account

MARKET = "SIM:ETHUSD"
KILLS = int(os.environ.get("FLASHMM_DRILL_KILLS", "10"))
SEED = 20261201
SECONDS_PER_KILL = 120
"""Test timeout budget per kill (an engine start imports torch and numba code: slow on a loaded machine)."""


@pytest.mark.timeout(300 + KILLS * SECONDS_PER_KILL)
def test_sigkill_repeatedly_leaves_nothing_orphaned_lost_or_doubled(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    schedule = [rng.randint(1, 12) for _ in range(KILLS)]
    port = free_port()
    killed_ns: list[int] = []
    with supervised(tmp_path, port) as sv:
        sv.wait_running("venue-sim")
        pid = sv.wait_running("engine")
        for i, orders_before_kill in enumerate(schedule):
            sv.wait_for(f"reconciliation #{i + 1}", lambda n=i + 1: sv.count_events("reconciled") >= n)
            base = sv.count("SELECT count(*) FROM ledger_orders")
            sv.wait_for(
                f"{orders_before_kill} new orders",
                lambda b=base, k=orders_before_kill: sv.count("SELECT count(*) FROM ledger_orders") >= b + k,
            )
            killed_ns.append(time.time_ns())
            os.kill(pid, signal.SIGKILL)
            pid = sv.wait_running("engine", not_pid=pid)
        sv.wait_for("the last reconciliation", lambda: sv.count_events("reconciled") >= KILLS + 1)
        base = sv.count("SELECT count(*) FROM ledger_orders")
        sv.wait_for(
            "quoting after the last restart", lambda: sv.count("SELECT count(*) FROM ledger_orders") > base
        )
        assert "stopped" in sv.ctl("stop", "engine")
        account = asyncio.run(venue_account(port, MARKET, "e1-"))
        starts = sv.query("SELECT ts_ns FROM ledger_events WHERE kind = 'engine_starting' ORDER BY id")
        reconciled = [
            r[0] for r in sv.query("SELECT ts_ns FROM ledger_events WHERE kind = 'reconciled' ORDER BY id")
        ]
        early = 0
        for (start,) in starts:
            done = min((r for r in reconciled if r >= start), default=None)
            assert done is not None, "a start that never reconciled"
            early += sv.count(
                "SELECT count(*) FROM ledger_orders WHERE created_ns >= ? AND created_ns < ?", start, done
            )
        fill_rows = sv.query("SELECT fill_id FROM ledger_fills")
        ledger_ids = [r[0] for r in fill_rows]
        (position,) = sv.query("SELECT position FROM ledger_positions WHERE market = ?", MARKET)[0]
        (cash,) = sv.query("SELECT cash FROM ledger_cash WHERE market = ?", MARKET)[0]
        orphans_cancelled = sv.count_events("orphan_order_cancelled")
        stale_cancelled = sv.count_events("stale_order_cancelled")
    recover_s = [(min(r for r in reconciled if r >= k) - k) / 1e9 for k in killed_ns]
    venue_ids = [f.fill_id for f in account.fills]
    doubled = len(ledger_ids) - len(set(ledger_ids))
    missing = len(set(venue_ids) - set(ledger_ids))
    figures = {
        "kills": KILLS,
        "kills_after_new_orders": schedule,
        "starts": len(starts),
        "reconciliations": len(reconciled),
        "orders_before_reconciliation": early,
        "orphan_orders_left": account.open_ours,
        "fills_venue": len(venue_ids),
        "fills_ledger": len(ledger_ids),
        "fills_counted_twice": doubled,
        "fills_missing": missing,
        "orphans_cancelled_at_restarts": orphans_cancelled,
        "stale_cancelled_at_restarts": stale_cancelled,
        "position_ledger_venue": (position, account.position),
        "cash_ledger_venue": (cash, account.cash),
        "position_difference": position - account.position,
        "worst_seconds_to_recover": round(max(recover_s), 2),
        "median_seconds_to_recover": round(sorted(recover_s)[len(recover_s) // 2], 2),
    }
    print(f"\ncrash safety: {figures}")
    assert len(starts) == KILLS + 1 and len(reconciled) >= KILLS + 1
    assert early == 0
    assert account.open_ours == 0
    assert doubled == 0 and missing == 0 and sorted(ledger_ids) == sorted(venue_ids)
    assert position == account.position and cash == account.cash
