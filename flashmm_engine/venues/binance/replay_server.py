"""Replay server: serves a recorded capture on 127.0.0.1 as a Binance-compatible combined-stream websocket
(`/stream?streams=...`) plus the REST depth snapshot (`/api/v3/depth` spot, `/fapi/v1/depth` usdm).

All clients share one replay timeline, like the real exchange. The server keeps its own book rebuilt from the
capture with the same feed pipeline as the connector, so a snapshot requested at any moment is the book at
the last diff broadcast, with that diff's update id: a connector that resyncs mid-replay gets a valid one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiohttp import WSMsgType, web

from flashmm_engine.marketdata.book import ASK, BID
from flashmm_engine.marketdata.capture import BadLine, iter_lines, split_line
from flashmm_engine.marketdata.units import format_units
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.types import NS_PER_MS, NS_PER_S
from flashmm_engine.venues.binance.faults import FaultCounts, FaultInjector, FaultPlan
from flashmm_engine.venues.binance.markets import DEPTH_PATHS, BinanceMarket, binance_market_spec
from flashmm_engine.venues.binance.messages import BookTicker, DepthDiff, DepthSnapshot, TradeMessage
from flashmm_engine.venues.binance.processor import FeedProcessor

log = logging.getLogger(__name__)

CLIENT_QUEUE_LIMIT = 50_000
"""Messages queued for one paced client before it is dropped as too slow (as Binance does)."""
UNPACED_QUEUE_LIMIT = 64
"""At speed 0 the replay waits for the client: it runs at most this many messages ahead of it."""
YIELD_EVERY_LINES = 256
"""When running ahead of schedule (or unpaced), yield to the loop this often."""
MIN_SLEEP_S = 0.001
SNAPSHOT_DEFAULT_LIMIT = 100
SNAPSHOT_MAX_LIMIT = 5000
STREAM_PREFIX = '{"stream":"'


@dataclass(frozen=True)
class ReplayLine:
    ts_local: int
    stream: str | None  # None for a recorded REST snapshot: it feeds the server's book, it is not streamed
    raw: str


def load_replay_lines(path: Path) -> list[ReplayLine]:
    lines: list[ReplayLine] = []
    for line in iter_lines(path):
        try:
            ts_local, raw_bytes = split_line(line)
            raw = raw_bytes.decode()
        except (BadLine, UnicodeDecodeError) as exc:
            log.warning("replay: skipping capture line: %s", exc)
            continue
        lines.append(ReplayLine(ts_local, _stream_of(raw), raw))
    return lines


def _stream_of(raw: str) -> str | None:
    if raw.startswith(STREAM_PREFIX):
        end = raw.find('"', len(STREAM_PREFIX))
        return raw[len(STREAM_PREFIX) : end] if end > 0 else None
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    stream = message.get("stream") if isinstance(message, dict) else None
    return stream if isinstance(stream, str) else None


class _LastEventSink:
    """The server's own book needs no tables: remember only the latest diff's exchange time."""

    def __init__(self) -> None:
        self.last_event_ns = 0

    def on_snapshot(self, ts_local: int, snapshot: DepthSnapshot) -> None:
        self.last_event_ns = snapshot.ts_exchange

    def on_diff(self, ts_local: int, diff: DepthDiff) -> None:
        self.last_event_ns = diff.ts_exchange

    def on_book_ticker(self, ticker: BookTicker) -> None:
        return None

    def on_trade(self, trade: TradeMessage) -> None:
        return None


@dataclass(eq=False)  # identity hashing: clients live in a set
class _Client:
    streams: frozenset[str]
    ws: web.WebSocketResponse
    injector: FaultInjector
    queue: asyncio.Queue[str | None]  # None: close the connection once what is queued is sent
    routed: int = 0


class ReplayServer:
    """`speed` 1.0 = as recorded, N = N times faster, 0 = as fast as clients take messages.

    With `wait_for_client` the timeline starts when the first websocket client connects, so a short capture
    is not over before anyone listens; at speed 0 it also pauses while no client is connected, so what
    each connection receives depends on message counts only, never on timing.
    """

    def __init__(
        self,
        lines: list[ReplayLine],
        market: BinanceMarket,
        symbol: str = "ETHUSDT",
        speed: float = 1.0,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        wait_for_client: bool = True,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 = as fast as possible)")
        self.lines, self.market, self.symbol, self.speed = lines, market, symbol.upper(), speed
        self.faults = faults or FaultPlan()
        self.fault_counts = FaultCounts()
        self.host, self.port = host, port
        self.spec = binance_market_spec(market, symbol)
        self._last_event = _LastEventSink()
        self.book_feed = FeedProcessor(market, self.spec, symbol, self._last_event)
        self.clients: set[_Client] = set()
        self.position = 0
        self.finished = asyncio.Event()
        self._client_joined = asyncio.Event()
        self._client_present = asyncio.Event()
        self._pause_without_clients = wait_for_client and not speed
        self.sent = 0
        if not wait_for_client:
            self._client_joined.set()
        self._rng = random.Random(self.faults.seed)
        self._tasks = TaskTracker("replay")
        self._runner: web.AppRunner | None = None

    @property
    def streams(self) -> frozenset[str]:
        return frozenset(line.stream for line in self.lines if line.stream is not None)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/stream", self._stream_handler)
        app.router.add_get(DEPTH_PATHS[self.market], self._depth_handler)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            await self._runner.cleanup()
            raise
        self.port = sock.getsockname()[1]  # known before start, also when 0 asked for any free port
        await web.SockSite(self._runner, sock).start()
        self._tasks.spawn(self._pump(), "pump")
        if self.faults.disconnect_every_s:
            self._tasks.spawn(self._disconnector(), "disconnector")
        log.info("replay of %d lines on %s (speed %s)", len(self.lines), self.base_url, self.speed or "max")

    async def stop(self) -> None:
        await self._tasks.shutdown()
        await self._close_clients()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _pump(self) -> None:
        await self._client_joined.wait()
        loop = asyncio.get_running_loop()
        start_wall = loop.time()
        start_ts = self.lines[0].ts_local if self.lines else 0
        for index, line in enumerate(self.lines):
            if self.speed:
                delay = (line.ts_local - start_ts) / NS_PER_S / self.speed - (loop.time() - start_wall)
                if delay > MIN_SLEEP_S:
                    await asyncio.sleep(delay)
            if index % YIELD_EVERY_LINES == 0:
                await asyncio.sleep(0)
            if self._pause_without_clients and line.stream is not None:
                await self._client_present.wait()
            self.book_feed.on_message(line.ts_local, line.raw)
            self.position = index + 1
            if line.stream is not None:
                await self._broadcast(line)
        self.finished.set()
        log.info("replay finished after %d lines", len(self.lines))

    async def _broadcast(self, line: ReplayLine) -> None:
        limit = self.faults.disconnect_after_messages
        for client in list(self.clients):
            if line.stream not in client.streams:
                continue
            if not self.speed:
                await client.queue.put(line.raw)
            elif client.queue.full():
                log.warning("replay client too slow (%d queued): disconnecting it", client.queue.qsize())
                self._tasks.spawn(client.ws.close(), "close-slow-client")
                self._remove(client)
                continue
            else:
                client.queue.put_nowait(line.raw)
            client.routed += 1
            if limit and client.routed >= limit:
                # the connection ends right after its N-th message: whatever the timing, it got exactly N
                self.fault_counts.disconnects += 1
                self._remove(client)
                await client.queue.put(None)

    def _remove(self, client: _Client) -> None:
        self.clients.discard(client)
        if not self.clients:
            self._client_present.clear()

    async def _disconnector(self) -> None:
        while True:
            await asyncio.sleep(self.faults.disconnect_every_s)
            if self.clients:
                self.fault_counts.disconnects += 1
                await self._close_clients()

    async def _close_clients(self) -> None:
        clients, self.clients = list(self.clients), set()
        self._client_present.clear()
        for client in clients:
            await client.ws.close()

    async def _stream_handler(self, request: web.Request) -> web.StreamResponse:
        streams = frozenset(s for s in request.query.get("streams", "").split("/") if s)
        if not streams:
            return web.json_response({"code": -1100, "msg": "streams parameter is required"}, status=400)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        injector = FaultInjector(self.faults, self.fault_counts, random.Random(self._rng.random()))
        queue: asyncio.Queue[str | None] = asyncio.Queue(
            CLIENT_QUEUE_LIMIT if self.speed else UNPACED_QUEUE_LIMIT
        )
        client = _Client(streams, ws, injector, queue)
        self.clients.add(client)
        self._client_joined.set()
        self._client_present.set()
        writer = self._tasks.spawn(self._write(client), "client-writer")
        try:
            async for message in ws:  # reading is what answers pings and notices a close
                if message.type == WSMsgType.ERROR:
                    log.info("replay client error: %s", ws.exception())
        finally:
            self._remove(client)
            writer.cancel()
            while not client.queue.empty():  # a replay waiting to queue for this client goes on
                client.queue.get_nowait()
        return ws

    async def _write(self, client: _Client) -> None:
        try:
            while not client.ws.closed:
                raw = await client.queue.get()
                if raw is None:
                    await client.ws.close()
                    return
                for message in client.injector.apply(raw):
                    await client.ws.send_str(message)
                    self.sent += 1
        except ConnectionResetError:
            log.debug("replay client went away while being written to")

    async def _depth_handler(self, request: web.Request) -> web.Response:
        if request.query.get("symbol", "").upper() != self.symbol:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        try:
            limit = min(int(request.query.get("limit", SNAPSHOT_DEFAULT_LIMIT)), SNAPSHOT_MAX_LIMIT)
        except ValueError:
            return web.json_response(
                {"code": -1100, "msg": "Illegal characters in parameter 'limit'."}, status=400
            )
        if self.book_feed.needs_snapshot:
            return web.json_response({"code": -1003, "msg": "replay book not synced yet"}, status=503)
        return web.Response(body=self._snapshot_body(max(limit, 1)), content_type="application/json")

    def _snapshot_body(self, limit: int) -> bytes:
        book, tick, lot = self.book_feed.book, self.spec.tick_size, self.spec.lot_size
        body: dict[str, object] = {"lastUpdateId": self.book_feed.sync.last_update_id}
        if self.market == "usdm":
            body["E"] = body["T"] = self._last_event.last_event_ns // NS_PER_MS
        body["bids"] = [[format_units(p, tick), format_units(s, lot)] for p, s in book.depth(BID, limit)]
        body["asks"] = [[format_units(p, tick), format_units(s, lot)] for p, s in book.depth(ASK, limit)]
        return orjson.dumps(body)
