"""The synchronous pre-trade gate. The trading core sends no order the gate did not approve.

Two steps per cycle: `screen` filters the quoter's targets by trading state, feed health, price band and
order size (before diffing, so that a pulled quote cancels its working order); `approve` checks each new
order of the diffed batch against the worst case (the position plus every working order on its side,
cancel-pending ones included, plus the orders approved before it, all filled) and the order-rate throttles,
and records what it approved.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence

from flashmm_engine.risk.limits import RiskLimits
from flashmm_engine.types import (
    NOTIONAL_SCALE,
    NS_PER_S,
    MarketView,
    Quote,
    RiskState,
    Side,
    TradingState,
)

NS_PER_MIN = 60 * NS_PER_S
OPERATOR_PREFIX = "operator_"
"""Reasons an operator caused through the control API start with this; an operator may lift only those."""
NS_PER_DAY = 86_400 * NS_PER_S


class RiskGate:
    def __init__(self, limits: RiskLimits, start_ns: int = 0) -> None:
        self.limits = limits
        self.state = RiskState(TradingState.ACTIVE, "start", start_ns)
        self.refusals: Counter[str] = Counter()
        self.transitions = 0
        self._sends: deque[int] = deque(maxlen=limits.max_orders_per_min)
        self._day: int | None = None
        self._day_start_equity = 0
        self._peak_equity: int | None = None

    # --- trading state ---

    def set_state(self, state: TradingState, reason: str, now_ns: int) -> bool:
        """Move to `state` for `reason`; returns False (and changes nothing) when already there, except that
        a system reason replaces an operator's: a fail-closed halt that comes while the operator has paused
        must not be lifted by the operator's resume."""
        if self.state.state is state and not self._operator_yields(reason):
            return False
        self.state = RiskState(state, reason, now_ns)
        self.transitions += 1
        return True

    def escalate(self, state: TradingState, reason: str, now_ns: int) -> bool:
        """Move to a stricter state only (ACTIVE < REDUCING < HALTED)."""
        order = (TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED)
        if order.index(state) < order.index(self.state.state):
            return False
        return self.set_state(state, reason, now_ns)

    def _operator_yields(self, reason: str) -> bool:
        return self.state.reason.startswith(OPERATOR_PREFIX) and not reason.startswith(OPERATOR_PREFIX)

    def on_equity(self, equity: int, now_ns: int) -> None:
        """Mark-to-market equity (notional units): the day's loss halts, a drawdown from the day's peak
        reduces; both clear at the next UTC day."""
        day = now_ns // NS_PER_DAY
        if day != self._day:
            self._day, self._day_start_equity, self._peak_equity = day, equity, equity
            if self.state.reason in ("daily_loss", "drawdown"):
                self.set_state(TradingState.ACTIVE, "new_day", now_ns)
        self._peak_equity = equity if self._peak_equity is None else max(self._peak_equity, equity)
        lim = self.limits
        if lim.max_daily_loss is not None and self._day_start_equity - equity > lim.max_daily_loss:
            self.escalate(TradingState.HALTED, "daily_loss", now_ns)
        elif lim.max_drawdown is not None and self._peak_equity - equity > lim.max_drawdown:
            self.escalate(TradingState.REDUCING, "drawdown", now_ns)

    # --- per cycle ---

    def feed_problem(self, view: MarketView) -> str | None:
        """Why the feed cannot be quoted on, or None when it is fresh and synced."""
        feed = view.feed
        if not feed.synced:
            return "feed_resyncing"
        if feed.top is None or feed.top.bid_price >= feed.top.ask_price:
            return "no_two_sided_book"
        if feed.book_ts_ns is None or view.now_ns - feed.book_ts_ns > self.limits.stale_feed_ns:
            return "stale_feed"
        return None

    def screen(self, view: MarketView, quotes: Sequence[Quote]) -> tuple[Quote, ...]:
        """The targets that may be quoted at all this cycle (an empty result pulls every quote)."""
        if self.state.state is TradingState.HALTED:
            return self._refuse_all("halted", quotes)
        problem = self.feed_problem(view)
        if problem is not None:
            return self._refuse_all(problem, quotes)
        assert view.top is not None
        mid_x2 = view.top.mid_x2
        band_x2 = mid_x2 * self.limits.price_band_bps // 10_000
        kept = []
        for quote in quotes:
            if quote.size < 1 or quote.price < 1:
                self.refusals["malformed_quote"] += 1
            elif quote.size > self.limits.max_order_lots:
                self.refusals["max_order_size"] += 1
            elif abs(2 * quote.price - mid_x2) > band_x2:
                self.refusals["price_band"] += 1
            else:
                kept.append(quote)
        return tuple(kept)

    def approve(self, view: MarketView, places: Sequence[Quote]) -> list[Quote]:
        """The new orders that pass the worst-case position, notional, state and rate checks, in order."""
        if not places:
            return []
        assert view.top is not None, "places exist only for targets that passed screen"
        lim = self.limits
        exposure = {Side.BUY: 0, Side.SELL: 0}
        for order in view.working:
            exposure[order.side] += order.remaining
        working = len(view.working)
        approved: list[Quote] = []
        for quote in places:
            if self.state.state is TradingState.HALTED:
                self.refusals["halted"] += 1
                continue
            worst = view.position + quote.side.sign * (exposure[quote.side] + quote.size)
            reason = self._position_refusal(view, quote, worst)
            if reason is None and working >= lim.max_working_orders:
                reason = "max_working_orders"
            if reason is None:
                reason = self._throttle(view.now_ns)
            if reason is not None:
                self.refusals[reason] += 1
                continue
            exposure[quote.side] += quote.size
            working += 1
            self._sends.append(view.now_ns)
            approved.append(quote)
        return approved

    def _position_refusal(self, view: MarketView, quote: Quote, worst: int) -> str | None:
        if self.state.state is TradingState.REDUCING:
            direction = 1 if view.position > 0 else -1
            if view.position == 0 or not 0 <= worst * direction < abs(view.position):
                return "reducing"  # even with every same-side order filled, the position must shrink
        lim = self.limits
        if lim.max_position_lots is not None and abs(worst) > lim.max_position_lots:
            return "max_position"
        assert view.top is not None
        price = max(quote.price, (view.top.mid_x2 + 1) // 2)
        if abs(worst) * price * NOTIONAL_SCALE > lim.max_notional:
            return "max_notional"
        return None

    def _throttle(self, now_ns: int) -> str | None:
        sends = self._sends
        while sends and sends[0] <= now_ns - NS_PER_MIN:
            sends.popleft()
        if len(sends) >= self.limits.max_orders_per_min:
            return "rate_per_min"
        recent = 0
        for ts in reversed(sends):
            if ts <= now_ns - NS_PER_S:
                break
            recent += 1
        return "rate_per_s" if recent >= self.limits.max_orders_per_s else None

    def _refuse_all(self, reason: str, quotes: Sequence[Quote]) -> tuple[Quote, ...]:
        self.refusals[reason] += max(len(quotes), 1)
        return ()
