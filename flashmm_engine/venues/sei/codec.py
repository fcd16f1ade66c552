"""Contract codecs: how FlashMM orders become a contract's execute/query JSON and how its events read back.

The codec is a protocol so another contract's schema can be added without touching signing, transport or
the venue. `FinCodec` speaks the Kujira FIN interface (`submit_order {price}` with the offer coin as funds,
`retract_order {order_idx}`, queries `book` and `orders_by_user`). FIN's execute/query shapes are public;
the `wasm` event attributes below are FlashMM's schema for fills, shared with the stub node.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from flashmm_engine.types import INT64_MAX, Liquidity, Side, bounds_problem
from flashmm_engine.venues.sei.units import DenomMarket, UnitError, format_decimal


class CodecError(ValueError):
    """A contract message or event does not follow the codec's schema."""


class Action(enum.Enum):
    SUBMIT = "submit_order"
    FILL = "fill"
    RETRACT = "retract_order"
    REJECT = "reject"


# custom event attribute keys; wasmd names a contract's custom event "wasm-<type>" and adds _contract_address
A_CONTRACT = "_contract_address"
A_IDX = "order_idx"
A_OWNER = "owner"
A_SIDE = "side"
A_PRICE = "price"
A_BASE = "base_amount"
A_QUOTE = "quote_amount"
A_FEE = "fee_amount"
A_LIQUIDITY = "liquidity"
A_REMAINING = "remaining_base"
A_REASON = "reason"
EVENT_PREFIX = "wasm-"
SIDE_NAMES = {Side.BUY: "bid", Side.SELL: "ask"}
SIDES_BY_NAME = {v: k for k, v in SIDE_NAMES.items()}


@dataclass(frozen=True, slots=True)
class Coin:
    denom: str
    amount: int


@dataclass(frozen=True, slots=True)
class ExecuteCall:
    msg: dict[str, Any]
    funds: tuple[Coin, ...] = ()


@dataclass(frozen=True, slots=True)
class ContractEvent:
    """One order-book action from the contract, in FlashMM units. Fee is in quote raw units."""

    action: Action
    order_idx: str
    owner: str
    side: Side
    price: int
    size: int
    remaining: int
    fee_quote_raw: int = 0
    liquidity: Liquidity = Liquidity.MAKER
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ContractOrder:
    order_idx: str
    owner: str
    side: Side
    price: int
    size: int
    filled: int
    open: bool = True


class ContractCodec(Protocol):
    def place(self, side: Side, price: int, size: int) -> ExecuteCall: ...

    def cancel(self, order_idx: str) -> ExecuteCall: ...

    def orders_by_user(self, address: str) -> dict[str, Any]: ...

    def parse_orders(self, response: Any) -> list[ContractOrder]: ...

    def book(self, limit: int, offset: int = 0) -> dict[str, Any]: ...

    def parse_book(self, response: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]: ...

    def parse_event(self, event_type: str, attrs: Mapping[str, str]) -> ContractEvent | None: ...


class FinCodec:
    """Kujira FIN style: the offered coin decides the side (quote offered = bid, base offered = ask)."""

    def __init__(self, market: DenomMarket) -> None:
        self.market = market

    def place(self, side: Side, price: int, size: int) -> ExecuteCall:
        if price <= 0 or size <= 0:
            raise CodecError(f"price and size must be positive, got {price} x {size}")
        m = self.market
        if side is Side.BUY:
            offer = Coin(m.quote_denom, m.quote_raw(price, size))
        else:
            offer = Coin(m.base_denom, m.base_raw(size))
        msg = {"submit_order": {"price": format_decimal(m.contract_price(price))}}
        return ExecuteCall(msg, (offer,))

    def cancel(self, order_idx: str) -> ExecuteCall:
        return ExecuteCall({"retract_order": {"order_idx": order_idx}})

    def orders_by_user(self, address: str) -> dict[str, Any]:
        return {"orders_by_user": {"address": address}}

    def book(self, limit: int, offset: int = 0) -> dict[str, Any]:
        return {"book": {"limit": limit, "offset": offset}}

    def parse_book(self, response: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids, asks) as (price ticks, size lots), best first; FIN's "quote" side holds the bids."""
        try:
            return self._levels(response["quote"]), self._levels(response["base"])
        except (KeyError, TypeError, ValueError, UnitError) as exc:
            raise CodecError(f"malformed book response: {exc!r}") from None

    def _levels(self, rows: Any) -> list[tuple[int, int]]:
        m = self.market
        return [
            (m.price_ticks(_decimal(r["quote_price"])), m.lots(int(r["total_offer_amount"]))) for r in rows
        ]

    def parse_orders(self, response: Any) -> list[ContractOrder]:
        try:
            rows = response["orders"]
            return [self._order(row) for row in rows]
        except (KeyError, TypeError, ValueError, UnitError) as exc:
            raise CodecError(f"malformed orders_by_user response: {exc!r}") from None

    def _order(self, row: Mapping[str, Any]) -> ContractOrder:
        side = _side(row["side"])
        original = self.market.lots(int(row["original_base_amount"]))
        filled = self.market.lots(int(row["filled_base_amount"]))
        price = self.market.price_ticks(_decimal(row["quote_price"]))
        is_open = str(row.get("open", "true")).lower() != "false"
        return ContractOrder(str(row["idx"]), str(row["owner"]), side, price, original, filled, is_open)

    def parse_event(self, event_type: str, attrs: Mapping[str, str]) -> ContractEvent | None:
        """Parse a custom `wasm-<action>` event; None if it is not an order-book action."""
        try:
            action = Action(event_type.removeprefix(EVENT_PREFIX))
        except ValueError:
            return None
        if not event_type.startswith(EVENT_PREFIX):
            return None
        try:
            m = self.market
            event = ContractEvent(
                action=action,
                order_idx=attrs[A_IDX],
                owner=attrs[A_OWNER],
                side=_side(attrs[A_SIDE]),
                price=m.price_ticks(_decimal(attrs[A_PRICE])),
                size=m.lots(int(attrs[A_BASE])),
                remaining=m.lots(int(attrs[A_REMAINING])),
                fee_quote_raw=int(attrs.get(A_FEE, "0")),
                liquidity=Liquidity(attrs.get(A_LIQUIDITY, Liquidity.MAKER.value)),
                reason=attrs.get(A_REASON, ""),
            )
        except (KeyError, ValueError, UnitError, ArithmeticError) as exc:
            raise CodecError(f"malformed {action.value} event: {exc!r}") from None
        problem = bounds_problem(event.price, max(event.size, event.remaining))
        if problem is None and abs(event.fee_quote_raw) > INT64_MAX:
            problem = f"fee {event.fee_quote_raw} exceeds int64"
        if problem is not None:
            raise CodecError(f"{action.value} event out of range: {problem}")
        return event


def _side(name: str) -> Side:
    try:
        return SIDES_BY_NAME[name]
    except KeyError:
        raise CodecError(f"unknown side {name!r}") from None


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CodecError(f"not a decimal: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise CodecError(f"not a positive decimal: {text!r}")
    return value
