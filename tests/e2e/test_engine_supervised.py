"""End to end on loopback under real supervisord: the sim venue and the engine as programs. The engine
reconciles, quotes both sides on the 5 Hz grid and gets fills; after 60 s and a SIGTERM (cancel
everything, exit 0) the ledger's position, cash and fills equal the venue's exactly."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.e2e.supervised import free_port, supervised, venue_account

MARKET = "SIM:ETHUSD"
RUN_S = 60.0
HZ = 5.0


def test_engine_under_supervisord_matches_the_venue_exactly(tmp_path: Path) -> None:
    port = free_port()
    with supervised(tmp_path, port) as sv:
        sv.wait_running("venue-sim")
        sv.wait_running("engine")
        sv.wait_for("start-up reconciliation", lambda: sv.count_events("reconciled") == 1)
        time.sleep(RUN_S)  # the run itself; nothing below depends on how much it did beyond "some fills"
        stopped = time.monotonic()
        assert "stopped" in sv.ctl("stop", "engine")
        stop_s = time.monotonic() - stopped
        assert "exit status 0" in sv.log("supervisord").split("stopped: engine")[-1][:60]
        account = asyncio.run(venue_account(port, MARKET, "e1-"))
        (position,) = sv.query("SELECT position FROM ledger_positions WHERE market = ?", MARKET)[0]
        (cash,) = sv.query("SELECT cash FROM ledger_cash WHERE market = ?", MARKET)[0]
        ledger_fills = {r[0] for r in sv.query("SELECT fill_id FROM ledger_fills")}
        sides = dict(sv.query("SELECT side, count(*) FROM ledger_orders GROUP BY side"))
        shutdown = json.loads(sv.query("SELECT detail FROM ledger_events WHERE kind = 'shutdown'")[0][0])
        first = sv.query("SELECT min(created_ns), max(created_ns) FROM ledger_orders")[0]
    span_s = (first[1] - first[0]) / 1e9
    figures = {
        "fills": len(ledger_fills),
        "orders_by_side": sides,
        "position": (position, account.position),
        "cash": (cash, account.cash),
        "cycles": shutdown["cycles"],
        "missed_cycles": shutdown["missed_cycles"],
        "sigterm_to_stopped_s": round(stop_s, 2),
    }
    print(f"\ne2e (ledger, venue): {figures}")
    assert account.open_ours == 0, "orders left at the venue after SIGTERM"
    assert position == account.position and cash == account.cash
    assert ledger_fills == {f.fill_id for f in account.fills} and ledger_fills
    assert sides.get(1, 0) > 0 and sides.get(-1, 0) > 0, "quotes on both sides"
    grid_cycles = shutdown["cycles"] + shutdown["missed_cycles"]
    assert grid_cycles >= 0.95 * HZ * span_s, f"{grid_cycles} grid points over {span_s:.1f}s of quoting"
    assert shutdown["missed_cycles"] <= 0.05 * grid_cycles
    assert shutdown["ledger_agrees"] is True
