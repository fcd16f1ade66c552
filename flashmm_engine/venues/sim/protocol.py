"""The sim venue's websocket wire format: JSON objects, prices and sizes as decimal strings.

Decimal strings are the boundary: the venue converts them to ticks and lots with the market's
MarketSpec, so an off-tick price is rejected here with RejectReason.OFF_TICK, never rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flashmm_engine.types import (
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
)

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


def decode_order(raw: Any, specs: dict[str, MarketSpec]) -> OrderRequest:
    """Raises ProtocolError (malformed) or OrderRejected (well formed but not acceptable)."""
    if not isinstance(raw, dict):
        raise ProtocolError("an order must be an object")
    client_id = require(raw, "client_id", str)
    market = require(raw, "market", str)
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
        return OrderRequest(client_id, market, side, spec.price_to_ticks(price), spec.size_to_lots(size), tif)
    except OffTickError as exc:
        raise OrderRejected(RejectReason.OFF_TICK, str(exc)) from None
    except InvalidOperation:
        raise ProtocolError("price or size out of range") from None


def decode_cancel(raw: Any) -> CancelRequest:
    if not isinstance(raw, dict):
        raise ProtocolError("a cancel must be an object")
    return CancelRequest(require(raw, "client_id", str), require(raw, "market", str))


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


def decode_event(raw: dict[str, Any]) -> VenueEvent:
    """Events carry integer ticks/lots/notional units: both ends share the market spec."""
    kind = raw["kind"]
    if kind == "ack":
        return Ack(raw["client_id"], raw["venue_order_id"], raw["ts"])
    if kind == "cancel_ack":
        return CancelAck(raw["client_id"], raw["ts"], raw["remaining"])
    if kind == "reject":
        return Reject(raw["client_id"], RejectReason(raw["reason"]), raw["detail"], raw["ts"])
    return Fill(
        raw["fill_id"],
        raw["client_id"],
        raw["venue_order_id"],
        raw["market"],
        SIDES[raw["side"]],
        raw["price"],
        raw["size"],
        raw["fee"],
        Liquidity(raw["liquidity"]),
        raw["ts"],
        raw["remaining"],
    )


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


def decode_open_order(raw: dict[str, Any]) -> OpenOrder:
    return OpenOrder(
        raw["client_id"],
        raw["venue_order_id"],
        raw["market"],
        SIDES[raw["side"]],
        raw["price"],
        raw["size"],
        raw["filled"],
        OrderStatus(raw["status"]),
    )
