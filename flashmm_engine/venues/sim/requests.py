"""Request handling of the sim venue: authentication, order entry and reconciliation queries."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from flashmm_engine.types import RejectReason
from flashmm_engine.venues.sim.protocol import (
    MAX_ID_CHARS,
    OrderRejected,
    ProtocolError,
    decode_cancel,
    decode_order,
    encode_open_order,
    require,
    require_int,
)

if TYPE_CHECKING:
    from flashmm_engine.venues.sim.server import Connection, SimVenueServer

log = logging.getLogger(__name__)

MAX_BATCH = 100


class RequestHandler:
    def __init__(self, venue: SimVenueServer) -> None:
        self.venue = venue

    def handle(self, conn: Connection, op: str, msg: dict[str, Any]) -> None:
        if op == "auth":
            self._auth(conn, msg)
        elif op == "subscribe":
            self.venue.subscribe(conn)
        elif op in ("place", "cancel", "batch", "open_orders", "balances", "positions"):
            if conn.account is None:
                conn.send({"type": "error", "reason": "unauthenticated", "detail": f"{op} needs auth first"})
                return
            if self.venue.closing and op in ("place", "batch"):
                conn.send({"type": "error", "reason": "closing", "detail": "the venue is shutting down"})
                return
            getattr(self, f"_{op}")(conn, conn.account, msg)
        else:
            raise ProtocolError(f"unknown op {op!r}")

    def _auth(self, conn: Connection, msg: dict[str, Any]) -> None:
        """The offered key is never logged nor echoed; failures are limited per peer (auth_limit.py)."""
        limiter, peer = self.venue.auth_limiter, conn.peer
        wait = limiter.retry_after(peer)
        if wait is not None:
            self.venue.bad_input.record("auth_rate_limited", f"authentication from {peer} refused unchecked")
            detail = f"too many failed authentications; retry in {math.ceil(wait)} s"
            conn.send({"type": "error", "reason": "rate_limited", "detail": detail})
            return
        account = self.venue.account_for_key(require(msg, "key", str))
        if account is None:
            failures = limiter.failed(peer)
            self.venue.bad_input.counts["unauthorized"] += 1
            log.warning(
                "sim venue: failed authentication from %s (%d of %d allowed in %.0f s)",
                peer,
                failures,
                limiter.allowed,
                limiter.window_s,
            )
            conn.send({"type": "error", "reason": "unauthorized", "detail": "unknown API key"})
            return
        limiter.succeeded(peer)
        conn.account = account
        spec = self.venue.spec
        last_seq = require_int(msg, "last_seq") if "last_seq" in msg else 0
        known = msg.get("session")
        if known is not None and known != self.venue.session:
            last_seq = 0  # the client's sequence belongs to an older session: all of this one is new to it
        markets = {
            spec.symbol: {
                "tick_size": str(spec.tick_size),
                "lot_size": str(spec.lot_size),
                "base": spec.base,
                "quote": spec.quote,
            }
        }
        conn.send({"type": "auth_ok", "account": account, "markets": markets, "session": self.venue.session})
        seq = self.venue.replay_since(conn, last_seq)
        conn.send({"type": "replayed", "seq": seq})

    def _items(self, msg: dict[str, Any], name: str) -> list[Any]:
        items: list[Any] = require(msg, name, list)
        if len(items) > MAX_BATCH:
            raise ProtocolError(f"at most {MAX_BATCH} {name} per message")
        return items

    def _place(self, conn: Connection, account: str, msg: dict[str, Any]) -> None:
        venue = self.venue
        for raw in self._items(msg, "orders"):
            try:
                order = decode_order(raw, {venue.spec.symbol: venue.spec})
            except OrderRejected as exc:
                venue.bad_input.record(exc.reason.value, str(exc))
                venue.reject(account, _client_id(raw), exc.reason, str(exc))
                continue
            except ProtocolError as exc:
                venue.bad_input.record("malformed", str(exc))
                venue.reject(account, _client_id(raw), RejectReason.MALFORMED, str(exc))
                continue
            venue.dispatch(venue.driver.exchange.submit(account, order, venue.now()))

    def _cancel(self, conn: Connection, account: str, msg: dict[str, Any]) -> None:
        venue = self.venue
        for raw in self._items(msg, "cancels"):
            try:
                cancel = decode_cancel(raw)
            except ProtocolError as exc:
                venue.bad_input.record("malformed", str(exc))
                venue.reject(account, "", RejectReason.MALFORMED, str(exc))
                continue
            venue.dispatch(venue.driver.exchange.cancel(account, cancel, venue.now()))

    def _batch(self, conn: Connection, account: str, msg: dict[str, Any]) -> None:
        """Cancels first, then new orders: a cancel/replace of many quotes in one message."""
        self._cancel(conn, account, msg)
        self._place(conn, account, msg)

    def _open_orders(self, conn: Connection, account: str, msg: dict[str, Any]) -> None:
        market = msg.get("market")
        if market is not None and not isinstance(market, str):
            raise ProtocolError("field 'market' must be a str or null")
        orders = self.venue.engine.open_orders(account, market)
        conn.send(
            {"type": "open_orders", "id": msg.get("id"), "orders": [encode_open_order(o) for o in orders]}
        )

    def _balances(self, conn: Connection, account: str, msg: dict[str, Any]) -> None:
        spec = self.venue.spec
        bal = self.venue.engine.balance(account, spec.symbol)
        balances = {
            spec.base: str(spec.lots_to_size(bal.base)),
            spec.quote: str(spec.notional_to_quote(bal.quote)),
        }
        conn.send({"type": "balances", "id": msg.get("id"), "balances": balances, "seq": self._seq(account)})

    def _positions(self, conn: Connection, account: str, msg: dict[str, Any]) -> None:
        positions = self.venue.engine.positions(account)
        reply = {"type": "positions", "id": msg.get("id"), "positions": positions, "seq": self._seq(account)}
        conn.send(reply)

    def _seq(self, account: str) -> int:
        """The account's last private-event sequence: a reply is a state as of exactly that event."""
        return self.venue.event_seq(account)


def _client_id(raw: Any) -> str:
    """The client id of a refused order, if it has a usable one (a reject must not echo arbitrary data)."""
    value = raw.get("client_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and len(value) <= MAX_ID_CHARS else ""
