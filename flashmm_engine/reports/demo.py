"""A ledger day for demonstrations and tests, made from recorded market data: we are the maker on every
n-th recorded trade (the passive side, at the trade's price, one lot), and the fills go through the real
ledger (`Ledger.record_fill`), so the report reads them exactly as it reads the engine's."""

from __future__ import annotations

from flashmm_engine.ledger.store import Ledger
from flashmm_engine.marketdata.normalize import NormalizedTables
from flashmm_engine.types import Fill, Liquidity, Side

VENUE = "demo"
INSTANCE = "demo"


def record_demo_fills(ledger_url: str, tables: NormalizedTables, every: int, fee_per_fill: int = 0) -> int:
    trades = tables.trade
    market = tables.spec.symbol
    ledger = Ledger(ledger_url)
    try:
        first_ts = int(trades["ts_local"].iloc[0]) if len(trades) else 0
        ledger.open_market(VENUE, market, 0, 0, first_ts)
        count = 0
        for i in range(0, len(trades), every):
            row = trades.iloc[i]
            side = Side.BUY if int(row["aggressor_side"]) < 0 else Side.SELL
            fill = Fill(f"demo-{i}", f"c-{i}", f"v-{i}", market, side, int(row["price"]), 1, fee_per_fill,
                        Liquidity.MAKER, int(row["ts_local"]))  # fmt: skip
            if ledger.record_fill(VENUE, INSTANCE, fill) is not None:
                count += 1
        return count
    finally:
        ledger.close()
