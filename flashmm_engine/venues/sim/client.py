"""Client of the sim venue, implementing the Venue protocol (flashmm_engine/venues/base.py).

It reconnects with jittered backoff and resumes from the last private-event sequence it saw, so order
state survives a dropped connection with nothing lost and nothing applied twice. If the venue no longer
keeps those events it says `resume_gap`: `reconcile_needed` is set and the owner must reconcile through
open_orders/balances/positions. Every frame is decoded inside a guard that counts and skips bad input
(`bad_input`). Queues are capped: market data drops its oldest event when full (`market_dropped`); private
events are never dropped, a full queue stops reading the socket instead (backpressure: the venue closes a
connection that does not keep up, and the client resumes from its last sequence).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from flashmm_engine.service.backoff import Backoff
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import (
    MAX_LOTS,
    CancelRequest,
    MarketEvent,
    MarketSpec,
    OpenOrder,
    OrderRequest,
    PrivateEvent,
    VenueSession,
)
from flashmm_engine.venues.base import RawTap, VenueError
from flashmm_engine.venues.sim.market_messages import decode_market_message
from flashmm_engine.venues.sim.protocol import (
    ProtocolError,
    decode_event,
    decode_open_order,
    encode_order,
    require,
    require_int,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0
MAX_MESSAGE_BYTES = 10_000_000
MARKET_QUEUE_MAX = 10_000
EVENT_QUEUE_MAX = 10_000
SNAPSHOT_ATTEMPTS = 5
MARKET_KINDS = frozenset({"snapshot", "depth", "trade", "top"})


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    seq: int
    positions: dict[str, int]
    balances: dict[str, Decimal]


class SimVenueClient:
    def __init__(
        self,
        url: str,
        api_key: SecretStr,
        backoff: Backoff | None = None,
        resume_after: int = 0,
        session: str | None = None,
    ) -> None:
        """`resume_after` is the last private-event sequence already applied (e.g. kept in a ledger) in venue
        session `session`: the venue replays only the events after it, or, when it runs another session,
        all of its own after a `VenueSession` event."""
        self.url = url
        self._key = api_key
        self._backoff = backoff or Backoff()
        self._ws: ClientConnection | None = None
        self._last_seq = resume_after
        self.delivered_seq = resume_after
        """Sequence of the event `events()` yielded last: everything up to it has been handed out."""
        self._events: asyncio.Queue[tuple[int, PrivateEvent]] = asyncio.Queue(EVENT_QUEUE_MAX)
        self._market: asyncio.Queue[tuple[int, MarketEvent]] = asyncio.Queue(MARKET_QUEUE_MAX)
        self._frame_rx_ns = 0
        self.market_rx_ns: int | None = None
        """When the frame of the event `market_data()` yielded last was read off the socket (wall ns)."""
        self.bad_input = BadInputCounter(log)
        self.market_dropped = 0
        self.resume_gaps = 0
        self.reconcile_needed = asyncio.Event()
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._tasks = TaskTracker("sim-client")
        self._closing = False
        self.specs: dict[str, MarketSpec] = {}
        self.account: str | None = None
        self.reconnects = 0
        self.session = session
        """The venue session of the current (or last) connection."""
        self.session_changes = 0
        self.raw_tap: RawTap | None = None

    # --- Venue protocol ---

    async def connect(self) -> None:
        await self._open()
        self._tasks.spawn(self._supervise(), "reader")

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await asyncio.wait_for(self._ws.close(), CLOSE_TIMEOUT_S)
        await self._tasks.shutdown()

    async def place(self, orders: Sequence[OrderRequest]) -> None:
        await self._send({"op": "place", "orders": [encode_order(o, self.specs[o.market]) for o in orders]})

    async def cancel(self, cancels: Sequence[CancelRequest]) -> None:
        payload = [{"client_id": c.client_id, "market": c.market} for c in cancels]
        await self._send({"op": "cancel", "cancels": payload})

    async def batch(self, cancels: Sequence[CancelRequest], orders: Sequence[OrderRequest]) -> None:
        """Cancels then places in one message: a market's whole cycle as one venue batch."""
        await self._send(
            {
                "op": "batch",
                "cancels": [{"client_id": c.client_id, "market": c.market} for c in cancels],
                "orders": [encode_order(o, self.specs[o.market]) for o in orders],
            }
        )

    async def open_orders(self, market: str | None = None) -> list[OpenOrder]:
        reply = await self._request({"op": "open_orders", "market": market})
        try:
            return [decode_open_order(o) for o in require(reply, "orders", list)]
        except ProtocolError as exc:
            raise VenueError(f"malformed open_orders reply: {exc}") from None

    async def balances(self) -> dict[str, Decimal]:
        reply = await self._request({"op": "balances"})
        try:
            balances: dict[str, Any] = require(reply, "balances", dict)
            out = {str(asset): Decimal(require(balances, asset, str)) for asset in balances}
        except (ProtocolError, ArithmeticError) as exc:
            raise VenueError(f"malformed balances reply: {exc!r}") from None
        if not all(v.is_finite() for v in out.values()):
            raise VenueError("malformed balances reply: non-finite amount")
        return out

    async def positions(self) -> dict[str, int]:
        reply = await self._request({"op": "positions"})
        try:
            positions: dict[str, Any] = require(reply, "positions", dict)
            return {str(market): require_int(positions, market, MAX_LOTS) for market in positions}
        except ProtocolError as exc:
            raise VenueError(f"malformed positions reply: {exc}") from None

    async def snapshot(self) -> AccountSnapshot:
        """Positions and balances as of one private-event sequence: comparable with a ledger that has
        applied exactly the events up to `seq`."""
        for _ in range(SNAPSHOT_ATTEMPTS):
            positions = await self._request({"op": "positions"})
            balances = await self._request({"op": "balances"})
            if positions.get("seq") == balances.get("seq") and isinstance(positions.get("seq"), int):
                return AccountSnapshot(
                    positions["seq"],
                    {market: int(lots) for market, lots in positions["positions"].items()},
                    {asset: Decimal(amount) for asset, amount in balances["balances"].items()},
                )
        raise VenueError(f"no consistent account snapshot in {SNAPSHOT_ATTEMPTS} attempts")

    async def events(self) -> AsyncIterator[PrivateEvent]:
        while True:
            seq, event = await self._events.get()
            self.delivered_seq = seq
            yield event

    @property
    def undelivered(self) -> int:
        """Events received but not yet handed out by `events()`."""
        return self._events.qsize()

    async def market_data(self) -> AsyncIterator[MarketEvent]:
        while True:
            self.market_rx_ns, event = await self._market.get()
            yield event

    # --- testing and operations ---

    async def drop_connection(self) -> None:
        """Close the socket as a network failure would; the client reconnects and resumes by itself."""
        if self._ws is not None:
            await self._ws.close()

    @property
    def last_seq(self) -> int:
        return self._last_seq

    # --- internals ---

    async def _open(self, resuming: bool = False) -> None:
        try:
            ws = await asyncio.wait_for(connect(self.url, max_size=MAX_MESSAGE_BYTES), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise VenueError(f"cannot connect to {self.url}: {exc}") from None
        try:
            handshake = await self._handshake(ws)
        except (ConnectionClosed, TimeoutError, orjson.JSONDecodeError, VenueError) as exc:
            await ws.close()
            if isinstance(exc, VenueError):
                raise
            raise VenueError(f"sim venue handshake failed: {exc!r}") from None
        # connected first, then the missed events are handed out: a consumer reacting to them can query
        self._ws = ws
        if resuming:
            self.reconnects += 1
        for msg, raw, ts_local in handshake:
            self._tap(msg, raw, ts_local)
            self._frame_rx_ns = ts_local
            await self._guarded(msg)

    async def _handshake(self, ws: ClientConnection) -> list[tuple[dict[str, Any], bytes | str, int]]:
        auth: dict[str, Any] = {"op": "auth", "key": self._key.get_secret_value(), "last_seq": self._last_seq}
        if self.session is not None:
            auth["session"] = self.session
        await ws.send(orjson.dumps(auth))
        await ws.send(orjson.dumps({"op": "subscribe"}))
        handshake: list[tuple[dict[str, Any], bytes | str, int]] = []
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            while not handshake or handshake[-1][0].get("type") != "replayed":
                raw = await ws.recv()
                ts_local = time.time_ns()
                msg = orjson.loads(raw)
                if not isinstance(msg, dict):
                    self.bad_input.record("frame", "handshake message is not an object")
                    continue
                if msg.get("type") == "error":
                    raise VenueError(f"sim venue refused the connection: {msg.get('reason')}")
                handshake.append((msg, raw, ts_local))
        return handshake

    async def _supervise(self) -> None:
        while not self._closing:
            ws = self._ws
            assert ws is not None
            try:
                async for raw in ws:
                    await self._on_frame(raw)
            except ConnectionClosed:
                pass
            self._ws = None
            self._fail_pending("connection lost")
            if not self._closing:
                await self._reconnect()

    async def _reconnect(self) -> None:
        while not self._closing:
            await asyncio.sleep(self._backoff.next_delay())
            try:
                await self._open(resuming=True)
            except VenueError as exc:
                log.warning("sim venue reconnect failed: %s", exc)
                continue
            self._backoff.reset()
            log.info("reconnected to the sim venue; resumed after event %d", self._last_seq)
            return

    def _fail_pending(self, why: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(VenueError(why))
        self._pending.clear()

    async def _send(self, message: dict[str, Any]) -> None:
        if self._ws is None:
            raise VenueError("not connected to the sim venue")
        try:
            await self._ws.send(orjson.dumps(message))
        except ConnectionClosed as exc:
            raise VenueError(f"sim venue connection closed: {exc}") from None

    async def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._send({**message, "id": request_id})
            return await asyncio.wait_for(future, REQUEST_TIMEOUT_S)
        except TimeoutError:
            raise VenueError(
                f"sim venue did not answer {message.get('op')!r} within {REQUEST_TIMEOUT_S}s"
            ) from None
        finally:
            self._pending.pop(request_id, None)

    async def _on_frame(self, raw: str | bytes) -> None:
        ts_local = time.time_ns()
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self.bad_input.record("frame", f"not JSON: {exc}")
            return
        if not isinstance(msg, dict):
            self.bad_input.record("frame", "a message must be a JSON object")
            return
        self._tap(msg, raw, ts_local)
        self._frame_rx_ns = ts_local
        await self._guarded(msg)

    def _tap(self, msg: dict[str, Any], raw: bytes | str, ts_local: int) -> None:
        if self.raw_tap is not None and msg.get("type") in MARKET_KINDS:
            market = str(msg.get("market"))
            self.raw_tap(ts_local, market, raw, self.specs.get(market))

    async def _guarded(self, msg: dict[str, Any]) -> None:
        try:
            await self._on_message(msg)
        except (ProtocolError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
            self.bad_input.record("frame", f"{msg.get('type')!r}: {exc!r}")

    async def _on_session(self, session: str) -> None:
        """A session other than the one `_last_seq` counts in: the venue replays its events from the start,
        after the `VenueSession` marker (queued behind every event of the old session)."""
        previous, self.session = self.session, session
        if previous is None or previous == session:
            return
        self._last_seq = 0
        self.session_changes += 1
        log.warning("sim venue runs a new session %s (was %s): its orders are gone", session, previous)
        await self._events.put((0, VenueSession(session, previous, time.time_ns())))

    def _put_market(self, event: MarketEvent) -> None:
        if self._market.full():
            self._market.get_nowait()
            self.market_dropped += 1
        self._market.put_nowait((self._frame_rx_ns, event))

    async def _on_message(self, msg: dict[str, Any]) -> None:
        """Decode completely first, then change state."""
        kind = msg.get("type")
        if kind == "event":
            seq = require_int(msg, "seq")
            if seq <= self._last_seq:
                return  # already seen before a reconnect
            event = decode_event(msg.get("event"))
            if seq != self._last_seq + 1:
                # a gap means events were lost between venue and client: say so loudly
                log.error("sim venue event gap: got seq %d after %d", seq, self._last_seq)
            self._last_seq = seq
            # never dropped: a full queue stops the reader (backpressure)
            await self._events.put((seq, event))
        elif kind == "resume_gap":
            self._last_seq = require_int(msg, "seq")
            self.resume_gaps += 1
            self.reconcile_needed.set()
            log.warning("sim venue: %s (resumed at event %d)", msg.get("detail"), self._last_seq)
        elif kind in ("open_orders", "balances", "positions"):
            future = self._pending.get(msg.get("id", -1))
            if future is not None and not future.done():
                future.set_result(msg)
        elif kind == "auth_ok":
            markets: dict[str, Any] = require(msg, "markets", dict)
            specs = {
                name: MarketSpec(name, Decimal(m["tick_size"]), Decimal(m["lot_size"]), m["base"], m["quote"])
                for name, m in markets.items()
            }
            self.account = require(msg, "account", str)
            self.specs.update(specs)
            await self._on_session(require(msg, "session", str))
        elif kind in ("snapshot", "depth", "trade", "top"):
            for market_event in decode_market_message(msg):
                self._put_market(market_event)
        elif kind == "error":
            log.warning("sim venue error: %s: %s", msg.get("reason"), msg.get("detail"))
        elif kind != "replayed":
            raise ProtocolError(f"unknown message type {kind!r}")
