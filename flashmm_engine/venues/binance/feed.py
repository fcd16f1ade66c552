"""Live Binance market-data connector: combined-stream websocket plus REST snapshots, kept in sync.

One connection at a time, to the first URL of the list that works (failover in order). Reconnects use
exponential backoff with full jitter; pings keep the socket honest; a feed silent for `stale_after_s` is
marked stale and reconnected, which resyncs the book. Every book change goes through the shared
`FeedProcessor`, and every bookTicker is checked against the rebuilt book.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, replace
from typing import Literal

import aiohttp

from flashmm_engine.config.marketdata import BinanceSettings
from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.recorder import RawRecorder
from flashmm_engine.marketdata.records import FeedSink
from flashmm_engine.marketdata.spec import InstrumentSpec
from flashmm_engine.service.backoff import Backoff
from flashmm_engine.service.clock import Clock, WallClock
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.venues.base import VenueError
from flashmm_engine.venues.binance.check import BookTickerCheck
from flashmm_engine.venues.binance.markets import (
    DEPTH_PATHS,
    SNAPSHOT_LIMIT,
    BinanceMarket,
    as_market,
    default_urls,
    stream_names,
)
from flashmm_engine.venues.binance.processor import FeedProcessor
from flashmm_engine.venues.binance.specs import fetch_exchange_info

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
SNAPSHOT_TIMEOUT_S = 10.0
WS_CLOSE_TIMEOUT_S = 2.0
SNAPSHOT_RETRY_BASE_S = 0.1
SNAPSHOT_RETRY_MAX_S = 5.0
RECONNECT_BASE_S = 0.1


@dataclass(frozen=True)
class FeedConfig:
    market: BinanceMarket
    symbol: str
    ws_urls: tuple[str, ...] = ()
    rest_urls: tuple[str, ...] = ()
    stale_after_s: float = 5.0
    ping_interval_s: float = 20.0
    snapshot_limit: int = SNAPSHOT_LIMIT
    reconnect_max_s: float = 10.0
    spec: InstrumentSpec | None = None
    """The instrument's spec; None: `open_live_feed` fetches it from the market's exchangeInfo."""

    def __post_init__(self) -> None:
        if not self.ws_urls or len(self.ws_urls) != len(self.rest_urls):
            raise ValueError("need at least one websocket URL and exactly one REST URL per websocket URL")

    @classmethod
    def from_settings(cls, settings: BinanceSettings) -> FeedConfig:
        market = as_market(settings.market)
        ws_default, rest_default = default_urls(market)
        ws_urls = tuple(settings.ws_urls or ws_default)
        return cls(
            market=market,
            symbol=settings.symbol,
            ws_urls=ws_urls,
            rest_urls=tuple(settings.rest_urls or rest_default * len(ws_urls)),
            stale_after_s=settings.stale_after_s,
            ping_interval_s=settings.ping_interval_s,
            snapshot_limit=settings.snapshot_limit,
            reconnect_max_s=settings.reconnect_max_s,
        )


@dataclass
class FeedCounts:
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    stale: int = 0
    failovers: int = 0
    snapshots: int = 0
    snapshot_failures: int = 0
    record_failures: int = 0
    """Messages the recorder could not write (disk full, directory gone): recording degrades, the feed
    goes on."""


class BinanceFeed:
    def __init__(
        self,
        config: FeedConfig,
        sink: FeedSink | None = None,
        recorder: RawRecorder | None = None,
        clock: Clock | None = None,
        bad_input: BadInputCounter | None = None,
    ) -> None:
        self.config = config
        self.recorder = recorder
        self.clock = clock or WallClock()
        if config.spec is None:
            raise ValueError(
                "FeedConfig.spec is required here; open_live_feed() fetches it from exchangeInfo"
            )
        spec = config.spec.market_spec()
        book = OrderBook()
        self.check = BookTickerCheck(book, sink)
        self.processor = FeedProcessor(config.market, spec, config.symbol, self.check, bad_input, book)
        self.counts = FeedCounts()
        self.stale = False
        self.url_index = 0
        self._backoff = Backoff(base_s=RECONNECT_BASE_S, max_s=config.reconnect_max_s)
        self._tasks = TaskTracker("binance-feed")
        self._snapshot_task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse[Literal[False]] | None = None
        self._session: aiohttp.ClientSession | None = None

    def summary(self) -> dict[str, object]:
        """Counts for reports: connection faults seen, resyncs, bad input and bookTicker checks."""
        processor, check = self.processor, self.check.counts
        return {
            **asdict(self.counts),
            "messages": processor.messages,
            "malformed": processor.malformed,
            "resyncs": processor.resyncs,
            "gaps": processor.sync.gaps,
            "stale_diffs": processor.sync.stale_diffs,
            "rejected_snapshots": processor.sync.rejected_snapshots,
            "book_ticker_checked": check.checked,
            "book_ticker_matched": check.matched,
            "book_ticker_mismatched": check.mismatched,
            "book_ticker_checked_after_resync": check.checked_after_resync,
            "book_ticker_matched_after_resync": check.matched_after_resync,
        }

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until `stop` is set; then close everything within the task timeouts."""
        async with aiohttp.ClientSession() as session:
            self._session = session
            self._tasks.spawn(self._close_on(stop), "stop-watcher")
            try:
                while not stop.is_set():
                    await self._connect_once(session, stop)
                    if not stop.is_set():
                        self.processor.resync("disconnected")
                        await _wait(stop, self._backoff.next_delay())
            finally:
                await self._tasks.shutdown()

    async def _connect_once(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        url = f"{self.config.ws_urls[self.url_index]}/stream"
        params = {"streams": "/".join(stream_names(self.config.market, self.config.symbol))}
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                ws = await session.ws_connect(
                    url,
                    params=params,
                    heartbeat=self.config.ping_interval_s,
                    decode_text=False,
                    timeout=aiohttp.ClientWSTimeout(ws_close=WS_CLOSE_TIMEOUT_S),
                )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.counts.connect_failures += 1
            log.warning("connect to %s failed: %s", url, exc)
            self._failover()
            return
        self.counts.connects += 1
        log.info("connected to %s", url)
        self._ws = ws
        try:
            if await self._receive_loop(ws, stop):
                self._backoff.reset()  # the session was healthy: reconnect promptly
        finally:
            self._ws = None
            await ws.close()
        if not stop.is_set():
            self.counts.disconnects += 1

    async def _receive_loop(
        self, ws: aiohttp.ClientWebSocketResponse[Literal[False]], stop: asyncio.Event
    ) -> bool:
        received = False
        while not stop.is_set():
            try:
                message = await ws.receive(timeout=self.config.stale_after_s)
            except TimeoutError:
                self.counts.stale += 1
                self.stale = True
                log.warning("feed stale: no message for %.1fs; reconnecting", self.config.stale_after_s)
                self._failover()
                return received
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                log.info("websocket ended: %s", message.type.name)
                return received
            received, self.stale = True, False
            self._on_raw(message.data)
        return received

    def _on_raw(self, raw: bytes | str) -> None:
        ts_local = self.clock.now_ns()
        self._record(ts_local, raw)
        self.processor.on_message(ts_local, raw)
        fetching = self._snapshot_task is not None and not self._snapshot_task.done()
        if self.processor.needs_snapshot and self.processor.sync.buffer and not fetching:
            self._snapshot_task = self._tasks.spawn(self._fetch_snapshots(), "snapshot")

    def _record(self, ts_local: int, raw: bytes | str) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder.write(ts_local, raw)
        except OSError as exc:
            self.counts.record_failures += 1
            if self.counts.record_failures == 1:
                log.error("ALERT: raw recording failed, the feed goes on without it: %s", exc)

    async def _fetch_snapshots(self) -> None:
        backoff = Backoff(base_s=SNAPSHOT_RETRY_BASE_S, max_s=SNAPSHOT_RETRY_MAX_S)
        while self.processor.needs_snapshot and self._session is not None:
            try:
                body = await self._get_snapshot(self._session)
            except (aiohttp.ClientError, OSError, TimeoutError, VenueError) as exc:
                self.counts.snapshot_failures += 1
                log.warning("depth snapshot failed: %s", exc)
            else:
                self.counts.snapshots += 1
                self._on_snapshot(body)
            if self.processor.needs_snapshot:
                await asyncio.sleep(backoff.next_delay())

    async def _get_snapshot(self, session: aiohttp.ClientSession) -> bytes:
        base = self.config.rest_urls[self.url_index]
        params = {"symbol": self.config.symbol.upper(), "limit": str(self.config.snapshot_limit)}
        timeout = aiohttp.ClientTimeout(total=SNAPSHOT_TIMEOUT_S)
        async with session.get(
            f"{base}{DEPTH_PATHS[self.config.market]}", params=params, timeout=timeout
        ) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise VenueError(f"depth snapshot HTTP {resp.status}: {body[:120]!r}")
            return body

    def _on_snapshot(self, body: bytes) -> None:
        ts_local = self.clock.now_ns()
        self._record(ts_local, body)
        self.processor.on_message(ts_local, body)

    def _failover(self) -> None:
        if len(self.config.ws_urls) > 1:
            self.url_index = (self.url_index + 1) % len(self.config.ws_urls)
            self.counts.failovers += 1
            log.warning("failing over to %s", self.config.ws_urls[self.url_index])

    async def _close_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        if self._ws is not None:
            await self._ws.close()


async def open_live_feed(
    config: FeedConfig,
    sink: FeedSink | None = None,
    recorder: RawRecorder | None = None,
    bad_input: BadInputCounter | None = None,
) -> BinanceFeed:
    """A feed whose spec comes from the market's live exchangeInfo, tried on each REST URL in order."""
    if config.spec is None:
        errors: list[str] = []
        async with aiohttp.ClientSession() as session:
            for rest_url in config.rest_urls:
                try:
                    spec = await fetch_exchange_info(session, rest_url, config.market, config.symbol)
                except (aiohttp.ClientError, OSError, TimeoutError, VenueError) as exc:
                    errors.append(f"{rest_url}: {exc}")
                    continue
                config = replace(config, spec=spec)
                break
        if config.spec is None:
            raise VenueError(f"no exchangeInfo for {config.symbol}: {'; '.join(errors)}")
    if recorder is not None:
        recorder.spec = config.spec
    return BinanceFeed(config, sink, recorder, bad_input=bad_input)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return
