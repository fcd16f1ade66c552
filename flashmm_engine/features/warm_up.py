"""Compile the feature kernel and the feed's compiled parts: `python -m flashmm_engine.features.warm_up`.

numba compiles each kernel function on its first call and caches the machine code beside the source;
after a fresh checkout (or an edit of the kernel) that first call takes a while. `make pytest` runs this
first, so no test or engine start pays for it (a cached run takes about a second).
"""

from __future__ import annotations

import time

from flashmm_engine.features.batch import compute_features
from flashmm_engine.features.event_columns import from_events
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.state import ColumnStream, FeatureState
from flashmm_engine.types import NS_PER_MS, BookDelta, BookSnapshot, MarketEvent, Side, TopOfBook, Trade
from flashmm_engine.venues.binance.warm_up import warm_feed

MARKET, REFERENCE = "warm-up:X", "warm-up:REF"


def events() -> list[MarketEvent]:
    out: list[MarketEvent] = [BookSnapshot(0, 0, MARKET, 1, ((1_000, 5), (999, 3)), ((1_001, 4), (1_002, 6)))]
    for k in range(1, 50):
        ts = k * 50 * NS_PER_MS
        out.append(BookDelta(ts, ts, MARKET, Side.BUY, 1_000 - k % 3, 1 + k % 4, k))
        out.append(TopOfBook(ts, ts, MARKET, 1_000, 5 + k % 2, 1_001 + k % 2, 4, k))
        out.append(TopOfBook(ts, ts, REFERENCE, 2_000, 1, 2_002 + k % 3, 1, k))
        out.append(Trade(ts, ts, MARKET, 1_001, 1 + k % 3, Side.BUY if k % 2 else Side.SELL, k))
    return out


def warm_up() -> float:
    started = time.perf_counter()
    spec = FeatureSpec(reference_market=REFERENCE)
    stream = events()
    state = FeatureState(spec, MARKET)
    for event in stream:
        state.on_event(event)
        state.sample(event.ts_local)
    state.is_warm(stream[-1].ts_local)
    state.depth.depth(1, 5)
    state.depth.best_ask()
    state.ewm[0].vol_per_sqrt_s(stream[-1].ts_local)
    compute_features(iter(stream), spec, MARKET)
    columns = ColumnStream(from_events(stream, MARKET, REFERENCE))
    FeatureState(spec, MARKET).apply_columns(columns, stream[-1].ts_local, lambda _: None)
    warm_feed()
    return time.perf_counter() - started


if __name__ == "__main__":
    print(f"feature kernel ready in {warm_up():.1f} s")
