"""The engine end to end against the Sei stub node through `SeiVenue`: it reconciles, quotes both sides,
gets a fill from another wallet crossing its bid, and on SIGTERM cancels everything and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import Side
from flashmm_engine.venues.sei.stub.server import StubNode
from tests.integration.sei_support import CHAIN_ID, MAKER_KEY, signer, taker_order, wait_blocks

WAIT_S = 90.0
STOP_BUDGET_S = 5.0
BOOK_PRICE = 250_000  # ticks of 0.01: 2,500.00
BOOK_HALF_WIDTH = 1_000


def query(ledger: Path, sql: str) -> list[tuple[Any, ...]]:
    if not ledger.exists():
        return []
    conn = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


async def wait_rows(ledger: Path, sql: str, proc: asyncio.subprocess.Process) -> list[tuple[Any, ...]]:
    async with asyncio.timeout(WAIT_S):
        while True:
            rows = query(ledger, sql)
            if rows:
                return rows
            assert proc.returncode is None, "the engine exited"
            await asyncio.sleep(0.1)


async def test_engine_trades_on_the_sei_stub_and_cancels_everything_on_sigterm(
    stub: StubNode, tmp_path: Path
) -> None:
    market = SeiSettings().market
    ledger = tmp_path / "ledger.db"
    base = f"127.0.0.1:{stub.port}"
    env = {
        **os.environ,
        "FLASHMM_ENGINE__VENUE": "sei",
        "FLASHMM_ENGINE__MARKETS": f'["{market}"]',
        "FLASHMM_ENGINE__LEDGER_URL": f"sqlite:///{ledger}",
        "FLASHMM_ENGINE__RECONCILE_INTERVAL_S": "2",
        "FLASHMM_DATABASE__URL": f"sqlite:///{tmp_path / 'registry.db'}",
        "FLASHMM_SEI__CHAIN_ID": CHAIN_ID,
        "FLASHMM_SEI__REST_URL": f"http://{base}",
        "FLASHMM_SEI__WS_URL": f"ws://{base}/websocket",
        "FLASHMM_SEI__CONTRACT_ADDRESS": stub.chain.contract.address,
        "FLASHMM_SEI__PRIVATE_KEY": MAKER_KEY,
        "FLASHMM_SEI__BLOCK_TIME_S": "0.1",
    }
    # another wallet makes a wide market, so the engine has a book to quote inside
    await taker_order(stub, Side.BUY, BOOK_PRICE - BOOK_HALF_WIDTH, 100, 0)
    await taker_order(stub, Side.SELL, BOOK_PRICE + BOOK_HALF_WIDTH, 100, 1)
    await wait_blocks(2)
    engine_log = tmp_path / "engine.log"
    with engine_log.open("wb") as log:  # the child keeps its own descriptor
        engine = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "flashmm"),
            "engine",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,  # a file: an unread pipe would fill with the engine's log and stall it
        )
    try:
        await wait_rows(ledger, "SELECT id FROM ledger_events WHERE kind = 'reconciled'", engine)
        bids = await wait_rows(
            ledger, "SELECT price, size FROM ledger_orders WHERE side = 1 AND status = 'open'", engine
        )
        await wait_rows(ledger, "SELECT price FROM ledger_orders WHERE side = -1", engine)
        price, size = bids[-1]
        await taker_order(stub, Side.SELL, price, size, 2)
        fills = await wait_rows(ledger, "SELECT fill_id, side, size FROM ledger_fills", engine)
        sent = time.monotonic()
        engine.send_signal(signal.SIGTERM)
        await asyncio.wait_for(engine.wait(), 30)
        stop_s = time.monotonic() - sent
    finally:
        if engine.returncode is None:
            engine.kill()
            await engine.wait()
    maker = signer(MAKER_KEY).address
    rows = stub.chain.contract.query({"orders_by_user": {"address": maker}})["orders"]
    still_open = [r for r in rows if r["open"] == "true"]
    (position,) = query(ledger, "SELECT position - opening_position FROM ledger_positions")[0]
    print(
        f"\nsei: fills {fills}, trading position {position}, exit in {stop_s:.2f}s,"
        f" open after {len(still_open)}"
    )
    assert engine.returncode == 0, engine_log.read_text(errors="replace")[-2000:]
    assert stop_s < STOP_BUDGET_S
    assert fills and fills[0][1] == 1 and position == sum(s * q for _, s, q in fills)
    assert rows and not still_open, "the engine's orders must all be cancelled on SIGTERM"
