"""The optional Binance reference feed (`engine.reference_feed`): its book's top goes into every market's
FeatureState as the reference market, which gives the basis feature (`ref_basis_bps`, `ref_ret_*`).

The connector (`venues/binance/feed.py`) reconnects with jittered backoff and resyncs its book from a REST
snapshot after every gap or reconnect. The reference is *fresh* while that book is synced and updated within
`engine.reference_stale_s`; otherwise a cycle quotes on, with base quotes (fallback `reference_stale`), so a
stale or resyncing reference never stops quoting. Reference prices are converted to each market's ticks
(rounded to the nearest tick). Every frame is recorded raw beside the venue's segments (`<dir>/binance/`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from flashmm_engine.config.settings import Settings
from flashmm_engine.engine.feature_spec import reference_market
from flashmm_engine.marketdata.recorder import RawRecorder
from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, TradeMessage
from flashmm_engine.service.backoff import Backoff
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.types import NS_PER_S, TopOfBook
from flashmm_engine.venues.base import VenueError
from flashmm_engine.venues.binance.feed import BinanceFeed, FeedConfig, open_live_feed

if TYPE_CHECKING:
    from flashmm_engine.features.state import FeatureState
    from flashmm_engine.types import MarketSpec

log = logging.getLogger(__name__)

RAW_VENUE = "binance"
OPEN_RETRY_BASE_S = 0.5


@dataclass
class ReferenceCounts:
    updates: int = 0
    """Reference tops pushed into the markets' feature states."""
    unavailable_spans: int = 0
    """Times a cycle found the reference stale or resyncing after it had been fresh."""
    recoveries: int = 0
    """Times a cycle found it fresh again after such a span."""
    open_failures: int = 0
    """Start-up attempts that could not fetch the instrument spec (exchangeInfo)."""


class _Target:
    """One market's feature state, with the factor from reference ticks to that market's ticks."""

    def __init__(self, features: FeatureState, spec: MarketSpec, reference_tick: Fraction) -> None:
        self.features = features
        self.ratio = reference_tick / Fraction(spec.tick_size)

    def ticks(self, reference_ticks: int) -> int:
        return round(reference_ticks * self.ratio)


class ReferenceFeed:
    def __init__(self, settings: Settings) -> None:
        market = reference_market(settings)
        assert market is not None, "engine.reference_feed is off"
        self.market = market
        self.settings = settings
        self.stale_ns = round(settings.engine.reference_stale_s * NS_PER_S)
        self.feed: BinanceFeed | None = None
        self.counts = ReferenceCounts()
        self._targets: list[_Target] = []
        self._pending: list[tuple[FeatureState, MarketSpec]] = []
        self._last_update_ns: int | None = None
        self._fresh = False
        self._ever_fresh = False
        """Until the reference was first fresh (start-up), it is not counted as stale."""

    async def open(self) -> None:
        """Fetch the instrument spec (exchangeInfo) and build the connector (VenueError: unreachable)."""
        binance = self.settings.binance
        config = FeedConfig.from_settings(
            binance.model_copy(update={"symbol": self.settings.engine.reference_symbol})
        )
        recorder = None
        if self.settings.recorder.enabled:
            directory = self.settings.recorder.directory / RAW_VENUE
            recorder = RawRecorder(directory, f"{RAW_VENUE}-{binance.market}-{config.symbol.upper()}")
        self.feed = await open_live_feed(config, self, recorder)
        for features, spec in self._pending:
            self._add(features, spec)
        self._pending.clear()

    def attach(self, features: FeatureState, spec: MarketSpec) -> None:
        """Feed this market's feature state (its spec must name this reference market)."""
        if features.spec.reference_market != self.market:
            raise ValueError(
                f"{spec.symbol}: feature spec reference {features.spec.reference_market!r} != {self.market!r}"
            )
        if self.feed is None:
            self._pending.append((features, spec))
        else:
            self._add(features, spec)

    def _add(self, features: FeatureState, spec: MarketSpec) -> None:
        assert self.feed is not None and self.feed.config.spec is not None
        self._targets.append(_Target(features, spec, Fraction(self.feed.config.spec.tick_size)))

    def start(self, tasks: TaskTracker, stop: asyncio.Event) -> None:
        """Open (retrying with jittered backoff while Binance is unreachable: the markets quote without
        the reference meanwhile), then stay connected until `stop`."""
        tasks.spawn(self._run(stop), "reference-feed")

    async def _run(self, stop: asyncio.Event) -> None:
        backoff = Backoff(base_s=OPEN_RETRY_BASE_S, max_s=self.settings.binance.reconnect_max_s)
        while self.feed is None and not stop.is_set():
            try:
                await self.open()
            except VenueError as exc:
                self.counts.open_failures += 1
                log.warning("reference feed %s: cannot open: %s", self.market, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff.next_delay())
        if self.feed is not None:
            await self.feed.run(stop)

    # --- freshness, asked by each market's cycle ---

    def fresh(self, now_ns: int) -> bool:
        feed, last = self.feed, self._last_update_ns
        fresh = (
            feed is not None
            and feed.processor.sync.synced
            and last is not None
            and now_ns - last <= self.stale_ns
        )
        if fresh != self._fresh:
            if fresh and self._ever_fresh:
                self.counts.recoveries += 1
                log.info("reference feed %s fresh again", self.market)
            elif not fresh and self._ever_fresh:
                self.counts.unavailable_spans += 1
                log.warning("reference feed %s stale or resyncing: base quotes until it is back", self.market)
            self._fresh = fresh
            self._ever_fresh = self._ever_fresh or fresh
        return fresh

    def summary(self) -> dict[str, object]:
        feed = self.feed.summary() if self.feed is not None else {}
        return {"market": self.market, "fresh": self._fresh, **vars(self.counts), **feed}

    # --- FeedSink: the connector's synced book changed ---

    def on_snapshot(self, ts_local: int, snapshot: DepthSnapshot) -> None:
        self._push(ts_local, snapshot.last_update_id)

    def on_diff(self, ts_local: int, diff: DepthDiff) -> None:
        self._push(ts_local, diff.final_id)

    def on_book_ticker(self, ticker: BookTicker) -> None:
        return None  # the top comes from the rebuilt book, so gaps and resyncs show

    def on_trade(self, trade: TradeMessage) -> None:
        return None

    def _push(self, ts_local: int, update_id: int) -> None:
        assert self.feed is not None
        book = self.feed.processor.book
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            return
        self._last_update_ns = time.time_ns()
        self.counts.updates += 1
        for target in self._targets:
            top = TopOfBook(
                ts_local,
                ts_local,
                self.market,
                target.ticks(bid[0]),
                bid[1],
                target.ticks(ask[0]),
                ask[1],
                update_id,
            )
            target.features.on_event(top)
