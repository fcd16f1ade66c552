"""Dev-only cross-check: the same fixed-spread strategy on the same capture in hftbacktest and in FlashMM.

    python -m tests.bench.hftbacktest_compare FILE [--market usdm] [--half-spread-ticks 5] [--latency-ms 10]

Settings matched on both sides: decisions every 200 ms, the capture's tick and lot, one-lot post-only
quotes, constant order entry and response latency, the power-2 probabilistic queue model, no partial fills,
the same fees, the same quoting and inventory-skew arithmetic in integer ticks. Not run by `make test`
(it needs the `bench` extra: `pip install -e '.[bench]'`). hftbacktest's Python API as documented at
hftbacktest.readthedocs.io (v2.4): BacktestAsset, HashMapMarketDepthBacktest, elapse, submit_*_order, cancel.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from hftbacktest import (
    BUY_EVENT,
    DEPTH_EVENT,
    EXCH_EVENT,
    GTX,
    LIMIT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
    event_dtype,
)
from numba import njit

from flashmm_engine.backtest.run import BacktestOptions, backtest_tables
from flashmm_engine.types import NS_PER_MS
from flashmm_engine.venues.captures import load_capture
from flashmm_engine.venues.sim.replay_columns import TRADE, EventColumns, merge_tables

BUY, SELL = 1, -1  # hftbacktest order sides
STATUS_NEW, STATUS_PARTIAL = 1, 5  # hftbacktest Status::New, Status::PartiallyFilled
REQ_NONE, REQ_CANCEL = 0, 2


def to_hftbacktest_events(columns: EventColumns, tick: float, lot: float) -> np.ndarray:
    """Our merged stream -> hftbacktest's event array. Exchange and local time are the same instant (the
    capture's local receive time): feed latency is zero on both sides."""
    kind = np.asarray(columns.kind)
    side = np.asarray(columns.side)
    is_trade = kind == TRADE
    flags = np.where(is_trade, TRADE_EVENT, DEPTH_EVENT) | EXCH_EVENT | LOCAL_EVENT
    flags = flags | np.where(side == 1, BUY_EVENT, SELL_EVENT)
    events = np.zeros(len(kind), dtype=event_dtype)
    events["ev"] = flags
    events["exch_ts"] = columns.ts
    events["local_ts"] = columns.ts
    events["px"] = np.asarray(columns.price) * tick
    events["qty"] = np.asarray(columns.size) * lot
    return events


@njit
def fixed_spread(hbt, half_spread, order_qty, max_position, skew_per_order, interval_ns):  # type: ignore[no-untyped-def]
    """FlashMM's fixed-spread quoter as the trading core runs it (keep the order at the target price,
    cancel and replace the rest in the same decision), line for line, in hftbacktest's njit API."""
    order_id = 0
    decisions = 0
    lot = hbt.depth(0).lot_size
    tick = hbt.depth(0).tick_size
    while hbt.elapse(interval_ns) == 0:
        hbt.clear_inactive_orders(0)
        decisions += 1
        depth = hbt.depth(0)
        bb, ba = depth.best_bid_tick, depth.best_ask_tick
        if bb <= -(2**60) or ba >= 2**60 or bb >= ba or depth.best_bid_qty <= 0 or depth.best_ask_qty <= 0:
            continue
        position = int(round(hbt.position(0) / lot))  # noqa: RUF046 (numba: keep the integer explicit)
        mid2 = bb + ba
        skew = -(position * skew_per_order) // order_qty
        bid = min((mid2 - 2 * half_spread) // 2 + skew, bb)
        ask = max(-((-(mid2 + 2 * half_spread)) // 2) + skew, ba)
        want_bid = position < max_position
        want_ask = position > -max_position
        keep_bid = False
        keep_ask = False
        orders = hbt.orders(0)
        values = orders.values()
        while values.has_next():
            order = values.get()
            if order.status != STATUS_NEW and order.status != STATUS_PARTIAL:
                continue
            if order.req == REQ_CANCEL:
                continue
            if order.side == BUY:
                if want_bid and order.price_tick == bid and not keep_bid:
                    keep_bid = True
                elif order.cancellable:
                    hbt.cancel(0, order.order_id, False)
            else:
                if want_ask and order.price_tick == ask and not keep_ask:
                    keep_ask = True
                elif order.cancellable:
                    hbt.cancel(0, order.order_id, False)
        if want_bid and not keep_bid:
            order_id += 1
            hbt.submit_buy_order(0, order_id, bid * tick, order_qty * lot, GTX, LIMIT, False)
        if want_ask and not keep_ask:
            order_id += 1
            hbt.submit_sell_order(0, order_id, ask * tick, order_qty * lot, GTX, LIMIT, False)
    return decisions


def run_hftbacktest(events: np.ndarray, opts: BacktestOptions, tick: float, lot: float) -> dict[str, float]:
    latency = int(opts.order_latency) * NS_PER_MS
    asset = (
        BacktestAsset()
        .data([events])
        .linear_asset(1.0)
        .constant_order_latency(latency, latency)
        .power_prob_queue_model(2.0)
        .no_partial_fill_exchange()
        .trading_value_fee_model(opts.maker_fee_ppm / 1e6, opts.taker_fee_ppm / 1e6)
        .tick_size(tick)
        .lot_size(lot)
        .last_trades_capacity(0)
    )
    hbt = HashMapMarketDepthBacktest([asset])
    started = time.perf_counter()
    decisions = fixed_spread(
        hbt,
        opts.half_spread_ticks,
        opts.order_size,
        opts.max_position,
        opts.skew_ticks_per_order,
        opts.decision_interval_ms * NS_PER_MS,
    )
    wall = time.perf_counter() - started
    depth = hbt.depth(0)
    mid = (depth.best_bid + depth.best_ask) / 2
    state = hbt.state_values(0)
    result = {
        "decisions": decisions,
        "fills": state.num_trades,
        "volume": state.trading_volume,
        "position": hbt.position(0),
        "pnl": state.balance + hbt.position(0) * mid - state.fee,
        "fees": state.fee,
        "seconds": wall,
    }
    hbt.close()
    return result


def hftbacktest_convert_seconds(path: Path) -> float:
    """hftbacktest's conversion of the raw capture into its event array (its futures converter reads this
    `<local_ts> <combined-stream JSON>` format; its output is what `run_hftbacktest` replays)."""
    from hftbacktest.data.utils import binancefutures

    started = time.perf_counter()
    binancefutures.convert(str(path), combined_stream=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--market", choices=["spot", "usdm", "coinm"], default=None)
    parser.add_argument("--half-spread-ticks", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=10)
    parser.add_argument("--maker-fee-ppm", type=int, default=0)
    parser.add_argument("--taker-fee-ppm", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    opts = BacktestOptions(
        half_spread_ticks=args.half_spread_ticks,
        order_latency=str(args.latency_ms),
        queue="power:2",
        partial_fills=False,
        maker_fee_ppm=args.maker_fee_ppm,
        taker_fee_ppm=args.taker_fee_ppm,
    )
    raw_started = time.perf_counter()
    tables = load_capture(args.file, args.market)
    ours_load_s = time.perf_counter() - raw_started
    columns = merge_tables(tables)
    tick, lot = float(tables.spec.tick_size), float(tables.spec.lot_size)
    events = to_hftbacktest_events(columns, tick, lot)
    hbt_runs = [run_hftbacktest(events, opts, tick, lot) for _ in range(args.runs + 1)][
        1:
    ]  # first = JIT warm-up
    ours_runs = [backtest_tables(tables, opts) for _ in range(args.runs)]
    hbt = hbt_runs[-1] | {"seconds": statistics.median(r["seconds"] for r in hbt_runs)}
    ours = ours_runs[-1] | {"seconds": statistics.median(r["seconds"] for r in ours_runs)}
    # from the raw file: hftbacktest's own converter then its (warm) run; FlashMM's load then its run
    hbt["from_raw_s"] = hftbacktest_convert_seconds(args.file) + hbt["seconds"]
    ours["from_raw_s"] = ours_load_s + ours["merge_seconds"] + ours["seconds"]
    print(
        f"{len(columns)} events, {args.runs} runs each (median wall time; hftbacktest warm)", file=sys.stderr
    )
    print(f"{'':<12}{'hftbacktest':>16}{'FlashMM':>16}")
    for key in ("decisions", "fills", "volume", "position", "pnl", "fees", "seconds", "from_raw_s"):
        print(f"{key:<12}{hbt[key]:>16.6g}{ours[key]:>16.6g}")
    print(f"{'events/s':<12}{len(columns) / hbt['seconds']:>16.6g}{len(columns) / ours['seconds']:>16.6g}")


if __name__ == "__main__":
    main()
