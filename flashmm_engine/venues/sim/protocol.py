"""The sim venue's websocket wire format: JSON objects, prices and sizes as decimal strings.

Decimal strings are the boundary: the venue converts them to ticks and lots with the market's
MarketSpec, so an off-tick price is rejected here with RejectReason.OFF_TICK, never rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flashmm_engine.types import (
    INT64_MAX,
    MAX_LOTS,
    MAX_TICKS,
    Ack,
    CancelAck,
    CancelRequest,
    Fill,
    Liquidity,
    MarketSpec,
    OffTickError,
    OpenOrder,
    OrderRequest,
    OrderStatus,
    Reject,
    RejectReason,
    Side,
    TimeInForce,
    VenueEvent,
    bounds_problem,
)

MAX_ID_CHARS = 64
"""Longest client id accepted: ids are kept per order, so their size is bounded too."""
SIDES = {"buy": Side.BUY, "sell": Side.SELL}
SIDE_NAMES = {Side.BUY: "buy", Side.SELL: "sell"}


class ProtocolError(ValueError):
    """A message that does not follow the protocol (RejectReason.MALFORMED)."""


class OrderRejected(ValueError):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def require(msg: dict[str, Any], name: str, kind: type) -> Any:
    value = msg.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProtocolError(f"field {name!r} must be a {kind.__name__}")
    return value


def require_id(msg: dict[str, Any], name: str) -> str:
    value: str = require(msg, name, str)
    if len(value) > MAX_ID_CHARS:
        raise ProtocolError(f"field {name!r} is longer than {MAX_ID_CHARS} characters")
    return value


def require_int(msg: dict[str, Any], name: str, bound: int = INT64_MAX) -> int:
    """An integer field (not a bool, not a float) with |value| <= bound."""
    value = msg.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > bound:
        raise ProtocolError(f"field {name!r} must be an integer with |value| <= {bound}")
    return value


def decode_order(raw: Any, specs: dict[str, MarketSpec]) -> OrderRequest:
    """Raises ProtocolError (malformed) or OrderRejected (well formed but not acceptable)."""
    if not isinstance(raw, dict):
        raise ProtocolError("an order must be an object")
    client_id = require_id(raw, "client_id")
    market = require_id(raw, "market")
    side = SIDES.get(require(raw, "side", str))
    if side is None:
        raise ProtocolError("side must be 'buy' or 'sell'")
    try:
        tif = TimeInForce(raw.get("tif", "gtc"))
        price, size = Decimal(require(raw, "price", str)), Decimal(require(raw, "size", str))
    except (ValueError, InvalidOperation):
        raise ProtocolError("tif must be gtc|ioc|post_only; price and size decimal strings") from None
    if not price.is_finite() or not size.is_finite():
        raise ProtocolError("price and size must be finite")
    spec = specs.get(market)
    if spec is None:
        raise OrderRejected(RejectReason.UNKNOWN_MARKET, f"unknown market {market!r}")
    try:
        ticks, lots = spec.price_to_ticks(price), spec.size_to_lots(size)
    except OffTickError as exc:
        raise OrderRejected(RejectReason.OFF_TICK, str(exc)) from None
    except InvalidOperation:  # more digits than the decimal context holds (e.g. 40-digit strings)
        raise OrderRejected(RejectReason.OUT_OF_RANGE, f"price {price} or size {size} out of range") from None
    if ticks <= 0:
        raise OrderRejected(RejectReason.NON_POSITIVE_PRICE, f"price {price} is not positive")
    if lots <= 0:
        raise OrderRejected(RejectReason.NON_POSITIVE_SIZE, f"size {size} is not positive")
    problem = bounds_problem(ticks, lots)
    if problem is not None:
        raise OrderRejected(RejectReason.OUT_OF_RANGE, problem)
    return OrderRequest(client_id, market, side, ticks, lots, tif)


def decode_cancel(raw: Any) -> CancelRequest:
    if not isinstance(raw, dict):
        raise ProtocolError("a cancel must be an object")
    return CancelRequest(require_id(raw, "client_id"), require_id(raw, "market"))


def encode_order(order: OrderRequest, spec: MarketSpec) -> dict[str, Any]:
    return {
        "client_id": order.client_id,
        "market": order.market,
        "side": SIDE_NAMES[order.side],
        "price": str(spec.ticks_to_price(order.price)),
        "size": str(spec.lots_to_size(order.size)),
        "tif": order.tif.value,
    }


def encode_event(event: VenueEvent, spec: MarketSpec | None) -> dict[str, Any]:
    if isinstance(event, Ack):
        return {
            "kind": "ack",
            "client_id": event.client_id,
            "venue_order_id": event.venue_order_id,
            "ts": event.ts,
        }
    if isinstance(event, CancelAck):
        return {
            "kind": "cancel_ack",
            "client_id": event.client_id,
            "ts": event.ts,
            "remaining": event.remaining,
        }
    if isinstance(event, Reject):
        return {
            "kind": "reject",
            "client_id": event.client_id,
            "reason": event.reason.value,
            "detail": event.detail,
            "ts": event.ts,
        }
    assert spec is not None
    return {
        "kind": "fill",
        "fill_id": event.fill_id,
        "client_id": event.client_id,
        "venue_order_id": event.venue_order_id,
        "market": event.market,
        "side": SIDE_NAMES[event.side],
        "price": event.price,
        "size": event.size,
        "fee": event.fee,
        "liquidity": event.liquidity.value,
        "ts": event.ts,
        "remaining": event.remaining,
    }


def decode_event(raw: Any) -> VenueEvent:
    """Events carry integer ticks/lots/notional units: both ends share the market spec.
    Raises ProtocolError on any field of the wrong type or out of its band."""
    if not isinstance(raw, dict):
        raise ProtocolError("an event must be an object")
    try:
        kind = raw["kind"]
        ts = require_int(raw, "ts")
        if kind == "ack":
            return Ack(require(raw, "client_id", str), require(raw, "venue_order_id", str), ts)
        if kind == "cancel_ack":
            return CancelAck(require(raw, "client_id", str), ts, require_int(raw, "remaining", MAX_LOTS))
        if kind == "reject":
            reason = RejectReason(raw["reason"])
            return Reject(require(raw, "client_id", str), reason, require(raw, "detail", str), ts)
        if kind != "fill":
            raise ProtocolError(f"unknown event kind {kind!r}")
        return Fill(
            require(raw, "fill_id", str),
            require(raw, "client_id", str),
            require(raw, "venue_order_id", str),
            require(raw, "market", str),
            SIDES[raw["side"]],
            require_int(raw, "price", MAX_TICKS),
            require_int(raw, "size", MAX_LOTS),
            require_int(raw, "fee"),
            Liquidity(raw["liquidity"]),
            ts,
            require_int(raw, "remaining", MAX_LOTS),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(f"malformed event: {exc!r}") from None


def encode_open_order(order: OpenOrder) -> dict[str, Any]:
    return {
        "client_id": order.client_id,
        "venue_order_id": order.venue_order_id,
        "market": order.market,
        "side": SIDE_NAMES[order.side],
        "price": order.price,
        "size": order.size,
        "filled": order.filled,
        "status": order.status.value,
    }


def decode_open_order(raw: Any) -> OpenOrder:
    if not isinstance(raw, dict):
        raise ProtocolError("an open order must be an object")
    try:
        return OpenOrder(
            require(raw, "client_id", str),
            require(raw, "venue_order_id", str),
            require(raw, "market", str),
            SIDES[raw["side"]],
            require_int(raw, "price", MAX_TICKS),
            require_int(raw, "size", MAX_LOTS),
            require_int(raw, "filled", MAX_LOTS),
            OrderStatus(raw["status"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(f"malformed open order: {exc!r}") from None
