"""A FIN-style order-book contract for the stub node, matching with the sim engine.

Funds model: the offered coin is escrowed in the contract's bank account on submit; fills pay the
counter-asset at once (FIN makes makers withdraw; settling at once keeps the stub small), refund any price
improvement, and charge fees in the quote denom. A message is validated before any message of its tx runs,
so a failing tx changes nothing, as on chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flashmm_engine.types import (
    Ack,
    CancelAck,
    CancelRequest,
    Fill,
    OffTickError,
    OrderRequest,
    Reject,
    Side,
    bounds_problem,
)
from flashmm_engine.venues.sei import codec as c
from flashmm_engine.venues.sei.stub.ante import ExecuteMsg
from flashmm_engine.venues.sei.stub.bank import Bank
from flashmm_engine.venues.sei.units import DenomMarket, UnitError, format_decimal
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import MatchingEngine

RawEvent = tuple[str, dict[str, str]]
MAX_ORDERS_PER_QUERY = 200


class ContractError(Exception):
    def __init__(self, msg_index: int, reason: str) -> None:
        super().__init__(reason)
        self.msg_index = msg_index
        self.reason = reason


@dataclass(slots=True)
class OrderRecord:
    idx: str
    owner: str
    side: Side
    limit: int
    size: int
    filled: int = 0
    open: bool = True


class FinContract:
    def __init__(
        self, address: str, market: DenomMarket, bank: Bank, taker_fee_ppm: int = 0, maker_fee_ppm: int = 0
    ) -> None:
        self.address = address
        self.market = market
        self._bank = bank
        self._engine = MatchingEngine([SimMarket(market.spec, maker_fee_ppm, taker_fee_ppm, True, False)])
        self._orders: dict[str, OrderRecord] = {}
        self._next_idx = 1

    def validate(self, msgs: Sequence[ExecuteMsg]) -> None:
        spend: dict[tuple[str, str], int] = {}
        retracted: set[str] = set()
        for i, msg in enumerate(msgs):
            if msg.contract != self.address:
                raise ContractError(i, f"no such contract: address {msg.contract}: not found")
            self._validate_one(i, msg, retracted)
            for coin in msg.funds:
                key = (msg.sender, coin.denom)
                spend[key] = spend.get(key, 0) + coin.amount
                # messages run in order: the first one whose funds transfer overdraws fails the tx
                have = self._bank.balance(msg.sender, coin.denom) - spend[key] + coin.amount
                if have < coin.amount:
                    raise ContractError(i, f"{have}{coin.denom} is smaller than {coin.amount}{coin.denom}")

    def _validate_one(self, i: int, msg: ExecuteMsg, retracted: set[str]) -> None:
        if "submit_order" in msg.msg:
            self._parse_submit(i, msg)
        elif "retract_order" in msg.msg:
            idx = self._open_order(i, msg).idx
            if idx in retracted:
                raise ContractError(i, f"Order {idx} not found")
            retracted.add(idx)
        else:
            raise ContractError(i, f"Error parsing into type ExecuteMsg: unknown variant {list(msg.msg)}")

    def execute(self, msgs: Sequence[ExecuteMsg], ts: int) -> list[list[RawEvent]]:
        """Events per message; call `validate` first."""
        out = []
        for i, msg in enumerate(msgs):
            for coin in msg.funds:
                self._bank.transfer(msg.sender, self.address, coin.denom, coin.amount)
            if "submit_order" in msg.msg:
                out.append(self._submit(i, msg, ts))
            else:
                out.append(self._retract(i, msg, ts))
        return out

    def _parse_submit(self, i: int, msg: ExecuteMsg) -> tuple[Side, int, int]:
        side, price, lots = self._parse_offer(i, msg)
        problem = bounds_problem(price, lots)
        if problem is not None:
            raise ContractError(i, f"invalid submit_order: out of range: {problem}")
        return side, price, lots

    def _parse_offer(self, i: int, msg: ExecuteMsg) -> tuple[Side, int, int]:
        body = msg.msg["submit_order"]
        if len(msg.funds) != 1 or not isinstance(body, dict):
            raise ContractError(i, "submit_order needs exactly one offer coin")
        m, offer = self.market, msg.funds[0]
        try:
            price = m.price_ticks(Decimal(str(body["price"])))
            if price <= 0 or offer.amount <= 0:
                raise ContractError(i, "price and offer must be positive")
            if offer.denom == m.base_denom:
                return Side.SELL, price, m.lots(offer.amount)
            if offer.denom == m.quote_denom:
                size = (Decimal(offer.amount) / m.contract_price(price)) / m.base_raw(1)
                lots = int(size)
                if lots <= 0 or m.quote_raw(price, lots) != offer.amount:
                    raise ContractError(
                        i, f"offer {offer.amount}{offer.denom} is not whole lots at {body['price']}"
                    )
                return Side.BUY, price, lots
        except (KeyError, InvalidOperation, OffTickError, UnitError) as exc:
            raise ContractError(i, f"invalid submit_order: {exc}") from None
        raise ContractError(i, f"denom {offer.denom} is not traded by this market")

    def _open_order(self, i: int, msg: ExecuteMsg) -> OrderRecord:
        body = msg.msg["retract_order"]
        idx = str(body.get("order_idx")) if isinstance(body, dict) else ""
        order = self._orders.get(idx)
        if order is None or not order.open:
            raise ContractError(i, f"Order {idx} not found")
        if order.owner != msg.sender:
            raise ContractError(i, "Unauthorized")
        return order

    def _submit(self, i: int, msg: ExecuteMsg, ts: int) -> list[RawEvent]:
        side, price, size = self._parse_submit(i, msg)
        idx = str(self._next_idx)
        self._next_idx += 1
        self._orders[idx] = OrderRecord(idx, msg.sender, side, price, size)
        req = OrderRequest(idx, self.market.spec.symbol, side, price, size)
        return self._apply(self._engine.submit(msg.sender, req, ts))

    def _retract(self, i: int, msg: ExecuteMsg, ts: int) -> list[RawEvent]:
        order = self._open_order(i, msg)
        return self._apply(
            self._engine.cancel(order.owner, CancelRequest(order.idx, self.market.spec.symbol), ts)
        )

    def _apply(self, events: list[tuple[str, Any]]) -> list[RawEvent]:
        out = []
        for _account, ev in events:
            order = self._orders[ev.client_id]
            if isinstance(ev, Ack):
                out.append(self._event(c.Action.SUBMIT, order, order.limit, order.size, order.size))
            elif isinstance(ev, Fill):
                out.append(self._settle_fill(order, ev))
            elif isinstance(ev, CancelAck | Reject):
                out.append(self._close(order, ev))
        return out

    def _settle_fill(self, order: OrderRecord, fill: Fill) -> RawEvent:
        m, bank = self.market, self._bank
        order.filled += fill.size
        order.open = fill.remaining > 0
        quote = m.quote_raw(fill.price, fill.size)
        fee = m.notional_to_quote_raw(fill.fee)
        if order.side is Side.BUY:
            bank.transfer(self.address, order.owner, m.base_denom, m.base_raw(fill.size))
            bank.transfer(
                self.address, order.owner, m.quote_denom, m.quote_raw(order.limit, fill.size) - quote
            )
            fee = min(fee, bank.balance(order.owner, m.quote_denom))
            bank.transfer(order.owner, self.address, m.quote_denom, fee)
        else:
            bank.transfer(self.address, order.owner, m.quote_denom, quote - fee)
        extra = {c.A_QUOTE: str(quote), c.A_FEE: str(fee), c.A_LIQUIDITY: fill.liquidity.value}
        return self._event(c.Action.FILL, order, fill.price, fill.size, fill.remaining, extra)

    def _close(self, order: OrderRecord, ev: CancelAck | Reject) -> RawEvent:
        m = self.market
        remaining = ev.remaining if isinstance(ev, CancelAck) else order.size - order.filled
        order.open = False
        if order.side is Side.BUY:
            self._bank.transfer(self.address, order.owner, m.quote_denom, m.quote_raw(order.limit, remaining))
        else:
            self._bank.transfer(self.address, order.owner, m.base_denom, m.base_raw(remaining))
        action = c.Action.RETRACT if isinstance(ev, CancelAck) else c.Action.REJECT
        extra = {c.A_REASON: ev.reason.value} if isinstance(ev, Reject) else {}
        return self._event(action, order, order.limit, remaining, 0, extra)

    def _event(
        self,
        action: c.Action,
        order: OrderRecord,
        price: int,
        size: int,
        remaining: int,
        extra: dict[str, str] | None = None,
    ) -> RawEvent:
        m = self.market
        attrs = {
            c.A_CONTRACT: self.address,
            c.A_IDX: order.idx,
            c.A_OWNER: order.owner,
            c.A_SIDE: c.SIDE_NAMES[order.side],
            c.A_PRICE: format_decimal(m.contract_price(price)),
            c.A_BASE: str(m.base_raw(size)),
            c.A_REMAINING: str(m.base_raw(remaining)),
            **(extra or {}),
        }
        return f"wasm-{action.value}", attrs

    def query(self, q: dict[str, Any]) -> dict[str, Any]:
        if "orders_by_user" in q:
            owner = str(q["orders_by_user"].get("address"))
            rows = [self._order_row(o) for o in self._orders.values() if o.owner == owner]
            return {"orders": rows[-MAX_ORDERS_PER_QUERY:]}
        if "book" in q:
            limit = int(q["book"].get("limit", 10))
            bids, asks = self._engine.depth(self.market.spec.symbol, limit)
            # FIN naming: "base" lists orders offering base (asks), "quote" those offering quote (bids)
            return {"base": self._levels(asks), "quote": self._levels(bids)}
        raise ContractError(0, f"Error parsing into type QueryMsg: unknown variant {list(q)}")

    def _levels(self, levels: list[tuple[int, int]]) -> list[dict[str, str]]:
        m = self.market
        return [
            {"quote_price": format_decimal(m.contract_price(p)), "total_offer_amount": str(m.base_raw(s))}
            for p, s in levels
        ]

    def _order_row(self, o: OrderRecord) -> dict[str, str]:
        m = self.market
        return {
            "idx": o.idx,
            "owner": o.owner,
            "side": c.SIDE_NAMES[o.side],
            "quote_price": format_decimal(m.contract_price(o.limit)),
            "original_base_amount": str(m.base_raw(o.size)),
            "filled_base_amount": str(m.base_raw(o.filled)),
            "open": "true" if o.open else "false",
        }
