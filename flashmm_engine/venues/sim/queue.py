"""Queue-position models: where our resting order stands in a replayed level we cannot see order by order.

Our order joins the back of its level. `front` is the quantity estimated ahead of us; it shrinks when
trades or cancellations consume the level, and a negative `front` means the queue has reached us.
Quantities are integers: `front` is in queue units (QUEUE_UNITS_PER_LOT per lot), so that a model that
splits a decrease between the parts ahead of and behind us stays exact to a millionth of a lot.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

QUEUE_UNITS_PER_LOT = 1_000_000


@dataclass(slots=True)
class QueuePos:
    front: int
    """Queue units ahead of us (negative: that much traded past us)."""
    cum_trade: int = 0
    """Lots traded at our level since the last book change there."""

    @classmethod
    def behind(cls, lots: int) -> QueuePos:
        return cls(lots * QUEUE_UNITS_PER_LOT)

    def passed_lots(self) -> int:
        """Whole lots that have traded past us."""
        return -self.front // QUEUE_UNITS_PER_LOT if self.front < 0 else 0

    def consume(self, lots: int) -> None:
        """`lots` of what got past us were filled."""
        self.front += lots * QUEUE_UNITS_PER_LOT


class QueueModel(Protocol):
    name: str

    def on_trade(self, q: QueuePos, qty: int) -> None: ...

    def on_depth(self, q: QueuePos, prev_qty: int, new_qty: int) -> None: ...


class RiskAverseQueue:
    """Only trades at our price advance us; a level shrinking below our estimate caps it."""

    name = "risk_averse"

    def on_trade(self, q: QueuePos, qty: int) -> None:
        q.front -= qty * QUEUE_UNITS_PER_LOT

    def on_depth(self, q: QueuePos, prev_qty: int, new_qty: int) -> None:
        q.front = min(q.front, new_qty * QUEUE_UNITS_PER_LOT)


class PowerProbQueue:
    """A decrease of the level is split between the part ahead of us and behind us with probability
    f(back) / (f(back) + f(front)), f(x) = x**n, that it came from behind.

    Source of the formula and of the trade/depth double-counting correction: hftbacktest
    (nkaz001/hftbacktest, hftbacktest/src/backtest/models/queue.rs, ProbQueueModel with PowerProbQueueFunc).
    """

    def __init__(self, power: Fraction) -> None:
        self.power = power
        self._integral = power.denominator == 1
        self.name = f"power:{power}" if self._integral else f"power:{float(power):g}"

    def on_trade(self, q: QueuePos, qty: int) -> None:
        q.front -= qty * QUEUE_UNITS_PER_LOT
        q.cum_trade += qty

    def on_depth(self, q: QueuePos, prev_qty: int, new_qty: int) -> None:
        # trades at our level were already counted in on_trade; the book diff that follows repeats them
        change = (prev_qty - new_qty - q.cum_trade) * QUEUE_UNITS_PER_LOT
        q.cum_trade = 0
        new = new_qty * QUEUE_UNITS_PER_LOT
        if change < 0:
            q.front = min(q.front, new)
            return
        front = q.front
        back = prev_qty * QUEUE_UNITS_PER_LOT - front
        from_front = self._from_front(change, max(front, 0), max(back, 0))
        estimate = front - from_front + min(back - (change - from_front), 0)
        q.front = min(estimate, new)

    def _from_front(self, change: int, front: int, back: int) -> int:
        """The part of `change` taken from ahead of us: change * f(front) / (f(front) + f(back))."""
        if front == 0:
            return 0
        if back == 0:
            return change
        if self._integral:
            n = self.power.numerator
            f_front: int = front**n
            f_back: int = back**n
            return change * f_front // (f_front + f_back)
        try:
            ratio: float = (back / front) ** float(self.power)  # a probability weight, not a quantity
        except OverflowError:
            return 0
        return round(change / (1.0 + ratio))


def parse_queue_model(text: str) -> QueueModel:
    """'risk-averse' | 'power:N' (N > 0)."""
    if text in ("risk-averse", "risk_averse"):
        return RiskAverseQueue()
    if text.startswith("power:"):
        try:
            power = Fraction(text.split(":", 1)[1])
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"queue model {text!r}: power must be a number") from None
        if power <= 0:
            raise ValueError(f"queue model {text!r}: power must be positive")
        return PowerProbQueue(power)
    raise ValueError(f"unknown queue model {text!r} (use risk-averse or power:N)")
