"""The two market-data views a backtest gives the trading core.

`ExchangeFeed`: the replayed (or synthetic) book's top as the exchange has it, for quoters that need no
features (the fixed spread). `FeatureFeed`: the live engine's pipeline, replayed: the recorded events feed the
one `FeatureState` (features/state.py) up to the observation time, its book gives the top and depth, and the
model (if any) predicts from its sample; public trades go to the core for intensity calibration.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from flashmm_engine.execution.core import TradingCore
from flashmm_engine.marketdata.normalize import NormalizedTables, trades_of
from flashmm_engine.strategy.prediction import ModelPredictor
from flashmm_engine.types import BookTop, FeedView, MarketEvent, Prediction, Trade
from flashmm_engine.venues.sim.exchange import Exchange

if TYPE_CHECKING:  # the compiled feature kernel is imported only by the backtests that use it
    from flashmm_engine.features.event_columns import EventColumns
    from flashmm_engine.features.state import ColumnStream, FeatureState

log = logging.getLogger(__name__)

DEPTH_LEVELS = 5


@dataclass(frozen=True, slots=True)
class TableEvents:
    """A capture's events as the feature kernel's columns, with its public trades as objects in order."""

    columns: EventColumns
    trades: list[Trade]

    @classmethod
    def of(cls, tables: NormalizedTables) -> TableEvents:
        from flashmm_engine.features.event_columns import from_tables

        return cls(from_tables(tables), list(trades_of(tables.trade)))


@dataclass(slots=True)
class MarketTime:
    """Local time of the last market event the exchange has processed (set by the replay loop)."""

    ts: int | None = None


class ExchangeFeed:
    """With `core`, the engine's public trades since the last observation go to its quoter's calibration
    (synthetic mode: the agents' trades are in the engine)."""

    def __init__(
        self, exchange: Exchange, market: str, market_time: MarketTime, core: TradingCore | None = None
    ) -> None:
        self.exchange = exchange
        self.market = market
        self.market_time = market_time
        self.core = core
        self._top: BookTop | None = None
        self._book_ts: int | None = None

    def observe(self, ts_ns: int) -> None:
        if self.core is not None:
            mid_x2 = self._top.mid_x2 if self._top is not None else None
            for trade in self.exchange.engine.take_public_trades():
                self.core.on_market_trade(trade, mid_x2)
        self._top = self.exchange.top()
        self._book_ts = self.market_time.ts

    def view(self, now_ns: int) -> FeedView:
        return FeedView(self.market, now_ns, self._top, book_ts_ns=self._book_ts)


class FeatureFeed:
    def __init__(
        self,
        events: Iterator[MarketEvent] | TableEvents,
        state: FeatureState,
        core: TradingCore,
        predictor: ModelPredictor | None = None,
    ) -> None:
        """`events`: the capture's events as objects, or (faster, the same result) as its tables' event
        columns, applied by the FeatureState's compiled kernel between observations."""
        self.market = state.market
        self.state = state
        self.core = core
        self.predictor = predictor
        self.model_errors: Counter[str] = Counter()
        self._view: FeedView | None = None
        self._stream: ColumnStream | None = None
        self._trades: list[Trade] = []
        self._next: MarketEvent | None = None
        if isinstance(events, TableEvents):
            from flashmm_engine.features.state import ColumnStream

            self._stream, self._trades = ColumnStream(events.columns), events.trades
            self._events: Iterator[MarketEvent] = iter(())
        else:
            self._events = events
            self._next = next(events, None)

    def _on_trade(self, index: int) -> None:
        self.core.on_market_trade(self._trades[index], self.state.mid_x2)

    def observe(self, ts_ns: int) -> None:
        state, core = self.state, self.core
        if self._stream is not None:
            state.apply_columns(self._stream, ts_ns, self._on_trade)
            self._view = self._build(ts_ns)
            return
        event = self._next
        while event is not None and event.ts_local <= ts_ns:
            if isinstance(event, Trade):
                core.on_market_trade(event, state.mid_x2)
            state.on_event(event)
            event = next(self._events, None)
        self._next = event
        self._view = self._build(ts_ns)

    def view(self, now_ns: int) -> FeedView:
        if self._view is None:
            return FeedView(self.market, now_ns, None)
        return FeedView(
            self._view.market,
            now_ns,
            self._view.top,
            self._view.bids,
            self._view.asks,
            self._view.book_ts_ns,
            self._view.synced,
            self._view.features,
            self._view.warm,
            self._view.prediction,
        )

    def _build(self, ts_ns: int) -> FeedView:
        state = self.state
        features = state.sample(ts_ns)
        warm = state.is_warm(ts_ns)
        mid_x2 = state.mid_x2
        bids = tuple(state.depth.depth(1, DEPTH_LEVELS))
        asks = tuple(state.depth.depth(-1, DEPTH_LEVELS))
        top = self._top(bids, asks)
        prediction = self._predict(features, mid_x2, ts_ns) if warm and mid_x2 is not None else None
        return FeedView(
            self.market,
            ts_ns,
            top,
            bids,
            asks,
            state.last_book_ts,
            state.book_synced,
            tuple(features.tolist()),
            warm,
            prediction,
        )

    def _top(self, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...]) -> BookTop | None:
        if self.state.tob is not None:
            bid, bid_size, ask, ask_size = self.state.tob
            return BookTop(bid, bid_size, ask, ask_size)
        if bids and asks:
            return BookTop(bids[0][0], bids[0][1], asks[0][0], asks[0][1])
        return None

    def _predict(self, features: NDArray[Any], mid_x2: int, ts_ns: int) -> Prediction | None:
        if self.predictor is None:
            return None
        try:
            return self.predictor.predict(features, mid_x2, ts_ns)
        except (RuntimeError, ValueError) as exc:
            self.model_errors[type(exc).__name__] += 1
            log.warning("model inference failed (%d so far): %s", self.model_errors.total(), exc)
            return None
