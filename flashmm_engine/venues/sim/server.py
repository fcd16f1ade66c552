"""The sim venue process: a websocket exchange on 127.0.0.1 around the matching engine.

Public market data (snapshot, sequenced depth diffs, trades, top of book) for any connection; order entry
and reconciliation queries for connections authenticated with an API key. Every private event gets a
per-account sequence number and the last EVENT_LOG_MAX are kept, so a client that reconnects with its last
seen sequence gets exactly the events it missed: nothing lost, nothing twice. A client whose last sequence
is no longer in the log (or ahead of it) gets `resume_gap` instead and must reconcile through open_orders,
balances and positions. Each process is one venue session (an id announced on auth): a client that names
an older session gets every event of this one from the start. On shutdown the resting orders are
cancelled; the balances survive a restart only with `sim.state_file` (account_file.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from flashmm_engine.config.sim import SimSettings
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import Fill, MarketSpec, Reject, VenueEvent
from flashmm_engine.venues.sim.account_file import save_accounts
from flashmm_engine.venues.sim.auth_limit import AuthLimiter
from flashmm_engine.venues.sim.drivers import MarketDriver
from flashmm_engine.venues.sim.matching import Events, MatchingEngine
from flashmm_engine.venues.sim.protocol import ProtocolError, encode_event, require
from flashmm_engine.venues.sim.requests import RequestHandler

log = logging.getLogger(__name__)

DEPTH_LEVELS = 20
OUTBOX_MAX = 10_000
SEND_TIMEOUT_S = 5.0
IDLE_SLEEP_S = 0.5
DRIVE_SLICE_STEPS = 64
"""Flow events applied between two yields to the event loop: a venue behind its clock (more flow than the
CPU can generate) still accepts connections and answers requests, and publishes at least this often."""
PUBLISH_BEHIND_STEPS = 4_096
"""A venue behind its clock publishes its book after at most this many flow events, though more are due."""
MAX_MESSAGE_BYTES = 1_000_000
EVENT_LOG_MAX = 50_000
"""Private events kept per account for resuming clients."""
DRAIN_S = 2.0
DRAIN_POLL_S = 0.02
SESSION_ID_BYTES = 4


@dataclass(eq=False)
class Connection:
    ws: ServerConnection
    account: str | None = None
    subscribed: bool = False
    bad_input: BadInputCounter | None = None
    outbox: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(OUTBOX_MAX))

    @property
    def peer(self) -> str:
        """The remote host (without port: reconnecting from a new port is the same peer)."""
        address = getattr(self.ws, "remote_address", None)
        return str(address[0]) if isinstance(address, tuple) and address else "unknown"

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.outbox.put_nowait(orjson.dumps(message))
        except orjson.JSONEncodeError as exc:  # a value our own bounds should have kept out
            if self.bad_input is not None:
                self.bad_input.record("unencodable_reply", f"{message.get('type')}: {exc}")
            self.send({"type": "error", "reason": "internal", "detail": "reply could not be encoded"})
        except asyncio.QueueFull:
            log.warning("closing a connection that does not keep up with its messages")
            self.ws.transport.close()


class SimVenueServer:
    def __init__(
        self,
        settings: SimSettings,
        engine: MatchingEngine,
        driver: MarketDriver,
        spec: MarketSpec,
        clock: Callable[[], int],
        session: str | None = None,
    ) -> None:
        self.settings = settings
        self.session = session or new_session_id()
        """This process's venue session: announced on auth; private-event sequences restart with it."""
        self.closing = False
        """Set on shutdown: no new orders are taken while resting ones are cancelled and replies drained."""
        self.engine = engine
        self.driver = driver
        self.spec = spec
        self.now = clock
        self._accounts_by_key = {key.get_secret_value(): acct for acct, key in settings.api_keys.items()}
        self._connections: set[Connection] = set()
        self._logs: dict[str, deque[dict[str, Any]]] = {
            acct: deque(maxlen=EVENT_LOG_MAX) for acct in settings.api_keys
        }
        self._seqs: dict[str, int] = dict.fromkeys(settings.api_keys, 0)
        self.resume_gaps = 0
        self._md_seq = 0
        self._image: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self.bad_input = BadInputCounter(log)
        self.tasks = TaskTracker("sim-venue")
        self.requests = RequestHandler(self)
        self.auth_limiter = AuthLimiter()

    async def run(self, stop: asyncio.Event, on_ready: Callable[[int], None]) -> None:
        async with serve(
            self._serve, self.settings.host, self.settings.port, max_size=MAX_MESSAGE_BYTES
        ) as srv:
            port = next(iter(srv.sockets)).getsockname()[1]
            drive = self.tasks.spawn(self._drive(), "drive")
            on_ready(port)
            await stop.wait()
            drive.cancel()
            await self._close_session()
        await self.tasks.shutdown()

    async def _close_session(self) -> None:
        """Cancel every account's resting orders (their cancel events are this session's last) and give
        the connections a bounded time to send what is queued, so clients see the session's end."""
        self.closing = True
        for account in self._logs:
            self.dispatch(self.engine.cancel_all(account, self.now()))
        for _ in range(round(DRAIN_S / DRAIN_POLL_S)):
            if all(c.outbox.empty() for c in self._connections):
                return
            await asyncio.sleep(DRAIN_POLL_S)

    # --- accounts and private events ---

    def account_for_key(self, key: str) -> str | None:
        for candidate, account in self._accounts_by_key.items():
            if hmac.compare_digest(candidate.encode(), key.encode()):
                return account
        return None

    def dispatch(self, events: Events) -> None:
        state_file = self.settings.state_file
        if state_file is not None and any(isinstance(e, Fill) for _, e in events):
            save_accounts(
                state_file, self.engine, list(self._logs), self.spec.symbol
            )  # before any client knows
        for account, event in events:
            self.publish_private(account, event)

    def publish_private(self, account: str, event: VenueEvent) -> None:
        log_ = self._logs.get(account)
        if log_ is None:
            return  # the synthetic agents' own events
        seq = self._seqs[account] = self._seqs[account] + 1
        message = {"type": "event", "seq": seq, "event": encode_event(event, self.spec)}
        log_.append(message)
        for conn in self._connections:
            if conn.account == account:
                conn.send(message)

    def event_seq(self, account: str) -> int:
        return len(self._logs.get(account, ()))

    def replay_since(self, conn: Connection, last_seq: int) -> int:
        """Send the events after `last_seq`; if some are no longer kept, a `resume_gap` instead."""
        assert conn.account is not None
        log_, seq = self._logs[conn.account], self._seqs[conn.account]
        oldest_kept = seq - len(log_) + 1
        if last_seq > seq or last_seq < oldest_kept - 1:
            self.resume_gaps += 1
            detail = (
                "events after last_seq are no longer kept: reconcile via open_orders, balances, positions"
            )
            conn.send(
                {
                    "type": "resume_gap",
                    "last_seq": last_seq,
                    "oldest_kept": oldest_kept,
                    "seq": seq,
                    "detail": detail,
                }
            )
            return seq
        for index in range(max(0, last_seq - oldest_kept + 1), len(log_)):
            conn.send(log_[index])
        return seq

    def reject(self, account: str, client_id: str, reason: Any, detail: str) -> None:
        self.publish_private(account, Reject(client_id, reason, detail, self.now()))

    # --- market data ---

    def subscribe(self, conn: Connection) -> None:
        conn.subscribed = True
        bids, asks = self._image
        conn.send(
            {
                "type": "snapshot",
                "market": self.spec.symbol,
                "seq": self._md_seq,
                "ts": self.now(),
                "bids": sorted(bids.items(), reverse=True),
                "asks": sorted(asks.items()),
            }
        )

    def publish_market(self, ts: int | None = None) -> None:
        """Publish trades and depth changes; `ts` is the venue time the book is as of (every event due at or
        before it has been applied), so a backtest can reproduce the published states exactly."""
        ts = self.now() if ts is None else ts
        subscribers = [c for c in self._connections if c.subscribed]
        for trade in self.driver.take_trades():
            message = {
                "type": "trade",
                "market": self.spec.symbol,
                "ts": trade.ts_local,
                "price": trade.price,
                "size": trade.size,
                "side": trade.aggressor_side.sign,
                "trade_id": trade.trade_id,
            }
            for conn in subscribers:
                conn.send(message)
        bids, asks = self.driver.depth(DEPTH_LEVELS)
        new_image = (dict(bids), dict(asks))
        changes = [
            [side, p, s]
            for side, old, new in ((1, self._image[0], new_image[0]), (-1, self._image[1], new_image[1]))
            for p, s in _diff(old, new)
        ]
        if not changes:
            return
        self._image = new_image
        self._md_seq += 1
        depth = {
            "type": "depth",
            "market": self.spec.symbol,
            "seq": self._md_seq,
            "ts": ts,
            "changes": changes,
        }
        top = {
            "type": "top",
            "market": self.spec.symbol,
            "seq": self._md_seq,
            "ts": ts,
            "bid": bids[0] if bids else None,
            "ask": asks[0] if asks else None,
        }
        for conn in subscribers:
            conn.send(depth)
            conn.send(top)

    async def _drive(self) -> None:
        behind_steps = 0
        while True:
            due = self.driver.next_time()
            if due is None:
                await asyncio.sleep(IDLE_SLEEP_S)  # a finished replay: the venue stays up for queries
                continue
            wait_ns = due - self.now()
            if wait_ns > 0:
                await asyncio.sleep(min(wait_ns / 1e9, IDLE_SLEEP_S))
            now = self.now()
            caught_up = False
            for _ in range(DRIVE_SLICE_STEPS):
                due = self.driver.next_time()
                if due is None or due > now:
                    caught_up = True
                    break
                self.dispatch(self.driver.step())
                behind_steps += 1
            # a frame stamped `now` shows every event due by then; a venue that stays behind still publishes
            if caught_up or behind_steps >= PUBLISH_BEHIND_STEPS:
                self.publish_market(now)
                behind_steps = 0
            await asyncio.sleep(0)

    # --- connections ---

    async def _serve(self, ws: ServerConnection) -> None:
        conn = Connection(ws, bad_input=self.bad_input)
        self._connections.add(conn)
        writer = self.tasks.spawn(self._write(conn), "writer")
        try:
            async for raw in ws:
                self._on_message(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            self._connections.discard(conn)
            writer.cancel()

    async def _write(self, conn: Connection) -> None:
        try:
            while True:
                message = await conn.outbox.get()
                await asyncio.wait_for(conn.ws.send(message.decode()), SEND_TIMEOUT_S)
        except (ConnectionClosed, TimeoutError):
            return

    def _on_message(self, conn: Connection, raw: str | bytes) -> None:
        try:
            msg = orjson.loads(raw)
            if not isinstance(msg, dict):
                raise ProtocolError("a message must be a JSON object")
            op = require(msg, "op", str)
            self.requests.handle(conn, op, msg)
        except (orjson.JSONDecodeError, ProtocolError) as exc:
            self.bad_input.record("malformed", str(exc))
            conn.send({"type": "error", "reason": "malformed", "detail": str(exc)})
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # not foreseen by the decoders
            self.bad_input.record("bad_request", repr(exc))
            conn.send({"type": "error", "reason": "malformed", "detail": f"request not understood: {exc!r}"})
        self.publish_market()


def _diff(old: dict[int, int], new: dict[int, int]) -> list[tuple[int, int]]:
    changed = [(p, s) for p, s in new.items() if old.get(p) != s]
    return changed + [(p, 0) for p in old if p not in new]


def new_session_id() -> str:
    return secrets.token_hex(SESSION_ID_BYTES)


def wall_clock() -> int:
    return time.time_ns()
