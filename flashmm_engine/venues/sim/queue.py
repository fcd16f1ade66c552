"""Queue-position models: where our resting order stands in a replayed level we cannot see order by order.

Our order joins the back of its level. `front` is the quantity estimated ahead of us; it shrinks when
trades or cancellations consume the level, and a negative `front` means the queue has reached us.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True)
class QueuePos:
    front: float
    cum_trade: float = 0.0


class QueueModel(Protocol):
    name: str

    def on_trade(self, q: QueuePos, qty: int) -> None: ...

    def on_depth(self, q: QueuePos, prev_qty: int, new_qty: int) -> None: ...


class RiskAverseQueue:
    """Only trades at our price advance us; a level shrinking below our estimate caps it."""

    name = "risk_averse"

    def on_trade(self, q: QueuePos, qty: int) -> None:
        q.front -= qty

    def on_depth(self, q: QueuePos, prev_qty: int, new_qty: int) -> None:
        q.front = min(q.front, new_qty)


class PowerProbQueue:
    """A decrease of the level is split between the part ahead of us and behind us with probability
    f(back) / (f(back) + f(front)), f(x) = x**n, that it came from behind.

    Source of the formula and of the trade/depth double-counting correction: hftbacktest
    (nkaz001/hftbacktest, hftbacktest/src/backtest/models/queue.rs, ProbQueueModel with PowerProbQueueFunc).
    """

    def __init__(self, power: float) -> None:
        self.power = power
        self.name = f"power:{power:g}"

    def on_trade(self, q: QueuePos, qty: int) -> None:
        q.front -= qty
        q.cum_trade += qty

    def on_depth(self, q: QueuePos, prev_qty: int, new_qty: int) -> None:
        # trades at our level were already counted in on_trade; the book diff that follows repeats them
        change = prev_qty - new_qty - q.cum_trade
        q.cum_trade = 0.0
        if change < 0:
            q.front = min(q.front, new_qty)
            return
        front = q.front
        back = prev_qty - front
        prob = self._prob_from_back(front, back)
        estimate = front - (1.0 - prob) * change + min(back - prob * change, 0.0)
        q.front = min(estimate, new_qty)

    def _prob_from_back(self, front: float, back: float) -> float:
        f_back = max(back, 0.0) ** self.power
        f_front = max(front, 0.0) ** self.power
        total = f_back + f_front
        return 1.0 if total == 0.0 else f_back / total


def parse_queue_model(text: str) -> QueueModel:
    """'risk-averse' | 'power:N' (N > 0)."""
    if text in ("risk-averse", "risk_averse"):
        return RiskAverseQueue()
    if text.startswith("power:"):
        try:
            power = float(text.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"queue model {text!r}: power must be a number") from None
        if power <= 0:
            raise ValueError(f"queue model {text!r}: power must be positive")
        return PowerProbQueue(power)
    raise ValueError(f"unknown queue model {text!r} (use risk-averse or power:N)")
