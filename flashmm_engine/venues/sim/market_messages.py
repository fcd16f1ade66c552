"""Decoding of the sim venue's public market-data messages, every number checked against its band."""

from __future__ import annotations

from typing import Any

from flashmm_engine.types import (
    MAX_LOTS,
    MAX_TICKS,
    BookDelta,
    BookSnapshot,
    MarketEvent,
    Side,
    TopOfBook,
    Trade,
)
from flashmm_engine.venues.sim.protocol import ProtocolError, require, require_int

SIDES = {1: Side.BUY, -1: Side.SELL}


def _level(raw: Any) -> tuple[int, int]:
    if type(raw) is not list or len(raw) != 2:
        raise ProtocolError("a level must be [price, size]")
    return _bounded(raw[0], MAX_TICKS), _bounded(raw[1], MAX_LOTS)


def _bounded(value: Any, bound: int) -> int:
    """An integer (JSON numbers decode to exactly int: bools and floats fail) with |value| <= bound; on the
    hot path of every book message, so checked inline."""
    if type(value) is not int or value > bound or value < -bound:
        raise ProtocolError(f"a value must be an integer with |value| <= {bound}")
    return value


def decode_market_message(msg: dict[str, Any]) -> list[MarketEvent]:
    """snapshot/depth/trade/top -> normalized events; ProtocolError (or ValueError) on bad fields."""
    kind, market, ts = msg["type"], require(msg, "market", str), require_int(msg, "ts")
    if kind == "snapshot":
        bids = tuple(_level(x) for x in require(msg, "bids", list))
        asks = tuple(_level(x) for x in require(msg, "asks", list))
        return [BookSnapshot(ts, ts, market, require_int(msg, "seq"), bids, asks)]
    if kind == "depth":
        seq = require_int(msg, "seq")
        out: list[MarketEvent] = []
        for change in require(msg, "changes", list):
            if type(change) is not list or len(change) != 3:
                raise ProtocolError("a depth change must be [side, price, size]")
            side = SIDES.get(change[0]) if type(change[0]) is int else None
            if side is None:
                raise ProtocolError("a depth change's side must be 1 (bid) or -1 (ask)")
            price, size = _bounded(change[1], MAX_TICKS), _bounded(change[2], MAX_LOTS)
            out.append(BookDelta(ts, ts, market, side, price, size, seq))
        return out
    if kind == "trade":
        price, size = _bounded(msg.get("price"), MAX_TICKS), _bounded(msg.get("size"), MAX_LOTS)
        trade_id = require_int(msg, "trade_id")
        return [Trade(ts, ts, market, price, size, Side(require_int(msg, "side")), trade_id)]
    bid, ask = msg.get("bid"), msg.get("ask")
    if bid is None or ask is None:
        return []
    (bid_p, bid_s), (ask_p, ask_s) = _level(bid), _level(ask)
    return [TopOfBook(ts, ts, market, bid_p, bid_s, ask_p, ask_s, require_int(msg, "seq"))]
