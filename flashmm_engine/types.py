"""Core domain types shared by every FlashMM layer.

Inside the hot path prices are integer *ticks* and sizes integer *lots*. `Decimal` appears only where
values cross a venue or config boundary, through `MarketSpec`. Cash and fees are integers in
*notional units*: one unit is `tick_size * lot_size / NOTIONAL_SCALE` of the quote asset, so that a fee
rate in parts per million applied to `price_ticks * size_lots` stays an exact integer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

NOTIONAL_SCALE = 1_000_000
"""Notional units per (tick x lot) of quote currency; lets ppm fee rates stay exact integers."""

INT64_MAX = 2**63 - 1
MAX_TICKS = 2**31 - 1
"""Largest |price| in ticks accepted at any input boundary."""
MAX_LOTS = 2**31 - 1
"""Largest |size| in lots accepted at any input boundary."""
NOTIONAL_HEADROOM = 2**4
MAX_ORDER_TICK_LOTS = INT64_MAX // NOTIONAL_SCALE // NOTIONAL_HEADROOM
"""Largest price x size (ticks x lots) of one order: its notional, times NOTIONAL_HEADROOM (sums of many
orders, ppm fee products) stays inside int64. About 5.8e11: 1,900 ETH at 3,000.00 with 0.01/0.001 steps."""

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


class Side(enum.IntEnum):
    """Order or book side. The integer value is the sign of the position change of a buy/sell."""

    BUY = 1
    SELL = -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return int(self)


class OffTickError(ValueError):
    """A price or size is not a whole number of ticks or lots."""


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """Static description of one market: the only place ticks and lots meet decimals."""

    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    base: str = ""
    quote: str = ""

    def price_to_ticks(self, price: Decimal | str) -> int:
        return _to_units(Decimal(price), self.tick_size, "price", self.symbol)

    def size_to_lots(self, size: Decimal | str) -> int:
        return _to_units(Decimal(size), self.lot_size, "size", self.symbol)

    def ticks_to_price(self, ticks: int) -> Decimal:
        return self.tick_size * ticks

    def lots_to_size(self, lots: int) -> Decimal:
        return self.lot_size * lots

    def notional_to_quote(self, units: int) -> Decimal:
        return self.tick_size * self.lot_size * units / NOTIONAL_SCALE


def bounds_problem(price: int, size: int) -> str | None:
    """Why (price ticks, size lots) are outside the bands every boundary enforces; None if inside."""
    if abs(price) > MAX_TICKS:
        return f"|price| {price} ticks exceeds {MAX_TICKS}"
    if abs(size) > MAX_LOTS:
        return f"|size| {size} lots exceeds {MAX_LOTS}"
    if abs(price * size) > MAX_ORDER_TICK_LOTS:
        return f"notional {price} x {size} ticks x lots exceeds {MAX_ORDER_TICK_LOTS}"
    return None


def _to_units(value: Decimal, step: Decimal, what: str, symbol: str) -> int:
    units, remainder = divmod(value, step)
    if remainder != 0:
        raise OffTickError(f"{symbol}: {what} {value} is not a multiple of {step}")
    return int(units)


# --- Normalized market events (ARCHITECTURE section 4). Timestamps are ns since the epoch. ---


@dataclass(frozen=True, slots=True)
class BookDelta:
    """One price level set to an absolute size (0 removes it). `seq` is the venue's update id."""

    ts_exchange: int
    ts_local: int
    market: str
    side: Side
    price: int
    size: int
    seq: int


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """A full book image; levels are (price_ticks, size_lots), best first."""

    ts_exchange: int
    ts_local: int
    market: str
    seq: int
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Trade:
    """A public trade. `aggressor_side` is the side of the taker."""

    ts_exchange: int
    ts_local: int
    market: str
    price: int
    size: int
    aggressor_side: Side
    trade_id: int


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best bid and ask as published by the venue (e.g. Binance bookTicker)."""

    ts_exchange: int
    ts_local: int
    market: str
    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int
    seq: int


MarketEvent = BookDelta | BookSnapshot | Trade | TopOfBook


# --- Orders and their lifecycle ---


class TimeInForce(enum.Enum):
    GTC = "gtc"
    IOC = "ioc"
    POST_ONLY = "post_only"


class Liquidity(enum.Enum):
    MAKER = "maker"
    TAKER = "taker"


class OrderStatus(enum.Enum):
    PENDING = "pending"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    """Sent, but no outcome within the venue's timeout: possibly live until the venue resolves it."""

    EXPIRED = "expired"
    """The venue no longer knows an order we never saw finish (found by a query after an ack timeout)."""

    @property
    def is_terminal(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


class RejectReason(enum.Enum):
    NON_POSITIVE_SIZE = "non_positive_size"
    NON_POSITIVE_PRICE = "non_positive_price"
    OFF_TICK = "off_tick"
    UNKNOWN_MARKET = "unknown_market"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    UNKNOWN_ORDER = "unknown_order"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    SELF_TRADE = "self_trade"
    MALFORMED = "malformed"
    OUT_OF_RANGE = "out_of_range"
    RISK = "risk"
    RATE_LIMIT = "rate_limit"
    VENUE_ERROR = "venue_error"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new limit order. `client_id` is deterministic so that replays deduplicate."""

    client_id: str
    market: str
    side: Side
    price: int
    size: int
    tif: TimeInForce = TimeInForce.GTC


@dataclass(frozen=True, slots=True)
class CancelRequest:
    client_id: str
    market: str


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order resting at the venue, as reported by a reconciliation query."""

    client_id: str
    venue_order_id: str
    market: str
    side: Side
    price: int
    size: int
    filled: int
    status: OrderStatus


@dataclass(frozen=True, slots=True)
class Ack:
    client_id: str
    venue_order_id: str
    ts: int


@dataclass(frozen=True, slots=True)
class CancelAck:
    client_id: str
    ts: int
    remaining: int


@dataclass(frozen=True, slots=True)
class Reject:
    client_id: str
    reason: RejectReason
    detail: str
    ts: int


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution of our order. `fill_id` is unique per venue and makes fills idempotent."""

    fill_id: str
    client_id: str
    venue_order_id: str
    market: str
    side: Side
    price: int
    size: int
    fee: int
    liquidity: Liquidity
    ts: int
    remaining: int = 0


VenueEvent = Ack | CancelAck | Reject | Fill


@dataclass(frozen=True, slots=True)
class VenueSession:
    """The venue runs a new session (a restarted venue process): every order of `previous` is gone, and
    private-event sequences start again after 0."""

    session: str
    previous: str
    ts: int


PrivateEvent = VenueEvent | VenueSession
"""What a venue's private stream yields: events about our orders, in order with session changes."""


@dataclass(slots=True)
class AccountState:
    """Balances in notional units of each market's quote, and positions in lots per market."""

    cash: int = 0
    positions: dict[str, int] = field(default_factory=dict)


# --- The trading core's view of one market and its output (ARCHITECTURE section 4, "Trading core") ---


@dataclass(frozen=True, slots=True)
class BookTop:
    """Best bid and ask in ticks with their sizes in lots; only built for a two-sided book."""

    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int

    @property
    def mid_x2(self) -> int:
        """Twice the mid, so it stays an integer."""
        return self.bid_price + self.ask_price


Levels = tuple[tuple[int, int], ...]
"""Book levels (price_ticks, size_lots), best first."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """One model output for one market, made at `ts_ns` by model `version`.

    `probs[h]` is (down, flat, up) for horizon `horizons[h]`; `expected_return_bps` is the model's expected
    mid return over the quoting horizon. `inference_ns` is the measured inference time (0 in backtests,
    where time is simulated)."""

    version: str
    ts_ns: int
    horizons: tuple[str, ...]
    probs: tuple[tuple[float, float, float], ...]
    expected_return_bps: float
    inference_ns: int = 0


class TradingState(enum.Enum):
    ACTIVE = "active"
    REDUCING = "reducing"
    """Only orders that shrink the position are allowed."""
    HALTED = "halted"
    """No new orders; working orders are cancelled."""


@dataclass(frozen=True, slots=True)
class RiskState:
    """A market's trading state, why it is in it, and since when (ns)."""

    state: TradingState
    reason: str
    since_ns: int


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """An order of ours that is not known to be finished, as the order manager tracks it.

    `remaining` is what could still fill; `cancel_sent` orders still count for risk until the venue confirms
    the cancel, since they can fill before it arrives."""

    client_id: str
    market: str
    side: Side
    price: int
    size: int
    remaining: int
    status: OrderStatus
    level: int
    sent_ns: int
    cancel_sent: bool = False


@dataclass(frozen=True, slots=True)
class FeedView:
    """What the market-data side knows about one market at a cycle: the part of a `MarketView` the runtime
    (or the backtester) supplies. Book prices are ticks and sizes lots; `book_ts_ns` is the local receive
    time of the last book update, `synced` is False while the book is resyncing. `features` is the
    `FeatureState.sample` vector (or None when no model runs), `warm` its warm flag; `volatility_bps` is the
    mid's volatility in bps per sqrt(second)."""

    market: str
    ts_ns: int
    top: BookTop | None
    bids: Levels = ()
    asks: Levels = ()
    book_ts_ns: int | None = None
    synced: bool = True
    features: tuple[float, ...] | None = None
    warm: bool = False
    prediction: Prediction | None = None
    volatility_bps: float | None = None
    reference_fresh: bool = True
    """False while a configured reference feed is stale or resyncing: its features are not to be used."""


@dataclass(frozen=True, slots=True)
class MarketView:
    """Everything one cycle decides on for one market: the feed's view plus our own inventory (lots),
    working orders and risk state, at cycle time `now_ns`."""

    feed: FeedView
    now_ns: int
    position: int
    working: tuple[WorkingOrder, ...]
    risk: RiskState

    @property
    def market(self) -> str:
        return self.feed.market

    @property
    def top(self) -> BookTop | None:
        return self.feed.top


@dataclass(frozen=True, slots=True)
class Quote:
    """One target order: a side, a price in ticks, a size in lots, and its level (0 = closest to the mid)."""

    side: Side
    price: int
    size: int
    level: int = 0


@dataclass(frozen=True, slots=True)
class TargetQuotes:
    """The quoter's answer for one market and cycle. `model_used` is False when the quotes are the plain
    base quotes; `fallback` then says why (e.g. "model_missing", "model_stale", "model_nan")."""

    market: str
    quotes: tuple[Quote, ...]
    model_used: bool = False
    fallback: str | None = None
    reservation_ticks: float | None = None
    half_spread_ticks: float | None = None

    def side(self, side: Side) -> tuple[Quote, ...]:
        return tuple(q for q in self.quotes if q.side is side)


@dataclass(frozen=True, slots=True)
class QuoteBatch:
    """One venue batch for one market: cancels first, then places. `queries` are client ids whose ack timed
    out: the runtime must ask the venue about them (open orders) and report back; nothing is assumed."""

    market: str
    cancels: tuple[CancelRequest, ...] = ()
    places: tuple[OrderRequest, ...] = ()
    queries: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.cancels or self.places)
