"""The one feature implementation: an incremental state machine fed with market events.

The live engine calls `on_event` per event and `sample` every tick; batch backfills drive the very same
object over a recorded event stream (features/batch.py), so live and batch features agree by construction.
`sample(t)` only ever reads state built from events with ts_local <= t: there is no lookahead.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.windows import (
    DecayedMean,
    EwmVariance,
    MidHistory,
    WindowSums,
    log_return_bps,
    signed_log1p,
)
from flashmm_engine.marketdata.book import BookError, OrderBook
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import NS_PER_MS, NS_PER_S, BookDelta, MarketEvent, TopOfBook, Trade

log = logging.getLogger(__name__)


class SampleOrderError(ValueError):
    """Features were sampled at a time earlier than a previous sample."""


class FeatureState:
    def __init__(self, spec: FeatureSpec, market: str) -> None:
        self.spec = spec
        self.market = market
        self.names = spec.names()
        self.depth = OrderBook()
        self.book_synced = False
        self.bad_input = BadInputCounter(log)
        self.tob: tuple[int, int, int, int] | None = None  # bid, bid_size, ask, ask_size
        self.ref_mid_x2: int | None = None
        keep_ns = spec.warmup_ns + spec.tick_ns
        self.mids = MidHistory(keep_ns)
        self.ref_mids = MidHistory(max(spec.reference_return_windows_ms) * NS_PER_MS + spec.tick_ns)
        self.ewm = [EwmVariance(h * NS_PER_MS) for h in spec.ewm_half_lives_ms]
        self.trades = [WindowSums(w * NS_PER_MS, 4) for w in spec.flow_windows_ms]  # n, buy, sell, p*q
        self.ofi = [WindowSums(w * NS_PER_MS, 1) for w in spec.flow_windows_ms]
        self.typical_size = DecayedMean(spec.scale_half_life_ms * NS_PER_MS)
        self.typical_spread = DecayedMean(spec.scale_half_life_ms * NS_PER_MS)
        self.first_ts: int | None = None
        self.last_trade: tuple[int, int, int] | None = None  # ts, price, side
        self.last_book_ts: int | None = None
        self.last_sample_ts = -1
        self.nonfinite_count = 0

    # --- events ---

    def on_event(self, event: MarketEvent) -> None:
        if event.market != self.market:
            if isinstance(event, TopOfBook) and event.market == self.spec.reference_market:
                self._on_reference(event)
            return
        if self.first_ts is None:
            self.first_ts = event.ts_local
        try:
            if isinstance(event, BookDelta):
                self.depth.set_level(int(event.side), event.price, event.size)
                self.last_book_ts = event.ts_local
            elif isinstance(event, TopOfBook):
                self._on_top(event)
            elif isinstance(event, Trade):
                self._on_trade(event)
            else:
                self.depth.load(event.bids, event.asks)
                self.book_synced = True
                self.last_book_ts = event.ts_local
        except BookError as exc:
            self.bad_input.record("feature_book_update", str(exc))
            return
        self._update_mid(event.ts_local)
        self._update_scales(event.ts_local)

    def _on_top(self, top: TopOfBook) -> None:
        if self.tob is not None:
            ofi = _order_flow_imbalance(self.tob, (top.bid_price, top.bid_size, top.ask_price, top.ask_size))
            if ofi:
                for window in self.ofi:
                    window.add(top.ts_local, (ofi,))
        self.tob = (top.bid_price, top.bid_size, top.ask_price, top.ask_size)

    def _on_trade(self, trade: Trade) -> None:
        buy = trade.size if trade.aggressor_side > 0 else 0
        record = (1, buy, trade.size - buy, trade.price * trade.size)
        for window in self.trades:
            window.add(trade.ts_local, record)
        self.last_trade = (trade.ts_local, trade.price, int(trade.aggressor_side))

    def _on_reference(self, top: TopOfBook) -> None:
        self.ref_mid_x2 = top.bid_price + top.ask_price
        if self.ref_mids.last != self.ref_mid_x2:
            self.ref_mids.append(top.ts_local, self.ref_mid_x2)

    def _update_mid(self, ts: int) -> None:
        mid_x2 = self.mid_x2
        if mid_x2 is None or mid_x2 == self.mids.last:
            return
        ret = self.mids.append(ts, mid_x2)
        for ewm in self.ewm:
            ewm.add(ts, ret * ret)

    def _update_scales(self, ts: int) -> None:
        bid, bid_size, ask, ask_size = self._top()
        if bid_size + ask_size > 0 and ask > bid:
            self.typical_size.add(ts, (bid_size + ask_size) / 2)
            self.typical_spread.add(ts, float(ask - bid))

    def _top(self) -> tuple[int, int, int, int]:
        return self.tob if self.tob is not None else self._book_top()

    @property
    def mid_x2(self) -> int | None:
        """Mid as bid + ask in ticks (exact): the venue's top of book when seen, else the depth book's."""
        if self.tob is not None:
            return self.tob[0] + self.tob[2]
        bid, ask = self.depth.best_bid(), self.depth.best_ask()
        if bid is None or ask is None:
            return None
        return bid[0] + ask[0]

    def is_warm(self, ts: int) -> bool:
        ready = self.mid_x2 is not None and self.book_synced and self.first_ts is not None
        if self.spec.reference_market is not None:
            ready = ready and self.ref_mid_x2 is not None
        return ready and self.first_ts is not None and ts - self.first_ts >= self.spec.warmup_ns

    # --- sampling ---

    def sample(self, ts: int) -> NDArray[Any]:
        """Features as of time ts (events with ts_local <= ts). Always finite; zeros before any data."""
        if ts < self.last_sample_ts:
            raise SampleOrderError(f"sample at {ts} after a sample at {self.last_sample_ts}")
        self.last_sample_ts = ts
        for window in (*self.trades, *self.ofi):
            window.advance(ts)
        self.mids.trim(ts)
        self.ref_mids.trim(ts)
        mid_x2 = self.mid_x2
        if mid_x2 is None:
            return np.zeros(len(self.names))
        scales = self._scales(ts, mid_x2)
        values = self._book_features(mid_x2, scales)
        values += self._price_features(ts, mid_x2, scales)
        values += self._flow_features(mid_x2, scales)
        values += self._timing_features(ts, mid_x2, scales)
        if self.spec.reference_market is not None:
            values += self._reference_features(ts, mid_x2, scales)
        out = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(out)
        if not finite.all():
            self.nonfinite_count += int((~finite).sum())
            out[~finite] = 0.0
        return out

    def _scales(self, ts: int, mid_x2: int) -> _Scales:
        bid, _, ask, _ = self._top()
        tick_bps = 2e4 / mid_x2 if mid_x2 > 0 else 0.0
        return _Scales(
            spread=float(max(ask - bid, 1)),
            size=max(self.typical_size.value, 1.0),
            tick_bps=tick_bps,
            vol_bps=self.ewm[-1].vol_per_sqrt_s(ts) if self.ewm else 0.0,
        )

    def _book_features(self, mid_x2: int, scales: _Scales) -> list[float]:
        bid, bid_size, ask, ask_size = self._top()
        mid = mid_x2 / 2
        levels = max(*self.spec.depths, self.spec.slope_depth)
        bids, asks = self.depth.depth(1, levels), self.depth.depth(-1, levels)
        values = [_imbalance(bid_size, ask_size)]
        values += [_imbalance(_cum(bids, d), _cum(asks, d)) for d in self.spec.depths]
        micro = (bid * ask_size + ask * bid_size) / (bid_size + ask_size) if bid_size + ask_size else mid
        typical_spread = self.typical_spread.value
        spread_rel = math.log(scales.spread / typical_spread) if typical_spread > 0 else 0.0
        values += [(micro - mid) / scales.spread, float(ask - bid), spread_rel]
        book_bid, book_ask = (bids[0][0] if bids else bid), (asks[0][0] if asks else ask)
        values.append(((book_bid + book_ask) / 2 - mid) / scales.spread)
        depth = self.spec.slope_depth
        values += [_slope(bids[:depth], scales.size), _slope(asks[:depth], scales.size)]
        values += [math.log1p(_cum(side, depth) / scales.size) for side in (bids, asks)]
        return values

    def _book_top(self) -> tuple[int, int, int, int]:
        bid, ask = self.depth.best_bid() or (0, 0), self.depth.best_ask() or (0, 0)
        return bid[0], bid[1], ask[0], ask[1]

    def _price_features(self, ts: int, mid_x2: int, scales: _Scales) -> list[float]:
        values = []
        for w in self.spec.return_windows_ms:
            past = self.mids.mid_at(ts - w * NS_PER_MS)
            values.append(scales.z(log_return_bps(mid_x2, past), w) if past is not None else 0.0)
        longest = max(self.spec.realized_windows_ms)
        long_rate = (self.mids.changes_since(ts - longest * NS_PER_MS) + 1) / longest
        values += [
            self.mids.changes_since(ts - w * NS_PER_MS) / w / long_rate for w in self.spec.activity_windows_ms
        ]
        values += [scales.in_spreads(ewm.vol_per_sqrt_s(ts)) for ewm in self.ewm]
        for w in self.spec.realized_windows_ms:
            realized = math.sqrt(self.mids.sum_sq_returns_since(ts - w * NS_PER_MS) / (w / 1000))
            values.append(scales.in_spreads(realized))
        return values

    def _flow_features(self, mid_x2: int, scales: _Scales) -> list[float]:
        values: list[float] = []
        longest = self.trades[-1]
        long_rate = (longest.sums[0] + 1) / longest.width_ns
        for trades, ofi in zip(self.trades, self.ofi, strict=True):
            count, buy, sell, notional = trades.sums
            volume = buy + sell
            values += [
                _imbalance(buy, sell),
                signed_log1p((buy - sell) / scales.size),
                math.log1p(volume / scales.size),
                count / trades.width_ns / long_rate,
                (notional / volume - mid_x2 / 2) / scales.spread if volume else 0.0,
                signed_log1p(ofi.sums[0] / scales.size),
            ]
        return values

    def _timing_features(self, ts: int, mid_x2: int, scales: _Scales) -> list[float]:
        start = self.first_ts if self.first_ts is not None else ts
        trade_ts = self.last_trade[0] if self.last_trade else start
        mid_ts = self.mids.last_ts if self.mids.last_ts is not None else start
        book_ts = self.last_book_ts if self.last_book_ts is not None else start
        # capped at the warm-up: how long the process has run must not leak in
        cap = self.spec.warmup_ns
        values = [math.log1p(min(max(ts - t, 0), cap) / NS_PER_S) for t in (trade_ts, mid_ts, book_ts)]
        if self.last_trade is None:
            return [*values, 0.0, 0.0]
        return [*values, float(self.last_trade[2]), (self.last_trade[1] - mid_x2 / 2) / scales.spread]

    def _reference_features(self, ts: int, mid_x2: int, scales: _Scales) -> list[float]:
        ref = self.ref_mid_x2
        values = [log_return_bps(mid_x2, ref) if ref is not None else 0.0]
        for w in self.spec.reference_return_windows_ms:
            past = self.ref_mids.mid_at(ts - w * NS_PER_MS)
            ret = log_return_bps(ref, past) if ref is not None and past is not None else 0.0
            values.append(scales.z(ret, w))
        return values


@dataclass(frozen=True, slots=True)
class _Scales:
    """The instrument's current units: spread (ticks), typical top size (lots), one tick and the
    long EWM volatility (bps, per sqrt second)."""

    spread: float
    size: float
    tick_bps: float
    vol_bps: float

    def z(self, ret_bps: float, window_ms: int) -> float:
        """A return in units of the move expected over its window (plus one tick, so a quiet book with
        no volatility yet gives finite values)."""
        return ret_bps / (self.vol_bps * math.sqrt(window_ms / 1000) + self.tick_bps)

    def in_spreads(self, vol_bps: float) -> float:
        return vol_bps / self.tick_bps / self.spread if self.tick_bps > 0 else 0.0


def _imbalance(bid_size: int, ask_size: int) -> float:
    total = bid_size + ask_size
    return (bid_size - ask_size) / total if total > 0 else 0.0


def _cum(levels: list[tuple[int, int]], depth: int) -> int:
    return sum(size for _, size in levels[:depth])


def _slope(levels: list[tuple[int, int]], typical_size: float) -> float:
    """Log cumulative size (in typical top sizes) per tick of distance from the best level: how fast
    liquidity builds up."""
    if not levels:
        return 0.0
    distance = max(abs(levels[-1][0] - levels[0][0]), 1)
    return math.log1p(_cum(levels, len(levels)) / typical_size) / distance


def _order_flow_imbalance(prev: tuple[int, int, int, int], new: tuple[int, int, int, int]) -> int:
    """Cont, Kukanov and Stoikov (2014) order-flow imbalance of one top-of-book update, in lots."""
    (pb, pbs, pa, pas), (nb, nbs, na, nas) = prev, new
    bid_flow = (nbs if nb >= pb else 0) - (pbs if nb <= pb else 0)
    ask_flow = (nas if na <= pa else 0) - (pas if na >= pa else 0)
    return bid_flow - ask_flow
