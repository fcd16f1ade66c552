"""The faults of the seeded simulation: how often each is drawn, and the counts of those injected.

Every draw comes from the seed's one `random.Random`, in a fixed order, so a seed replays exactly.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

FAULT_KINDS = (
    "disconnect",
    "request_lost",
    "restart",
    "cursor_writes_lost",
    "feed_gap",
    "feed_resync",
    "event_delay",
    "event_duplicate",
    "event_reorder",
    "reject",
    "fill_races_cancel",
    "operator_halt",
)


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Per-step probabilities (per emitted event or request where it says so)."""

    disconnect: float = 0.015
    """The venue link drops for 1-`max_outage_steps` steps; each request in flight is lost or not."""
    request_lost: float = 0.5
    """Per request in flight when the link drops or the engine dies."""
    restart: float = 0.012
    """The engine process dies; it is rebuilt from the ledger and reconciled after an outage."""
    cursor_writes_lost: float = 0.5
    """Per death: the queued cursor writes of the events since the last fill are lost with it."""
    feed_gap: float = 0.02
    """Market data stops for some steps (the book the core sees goes stale)."""
    feed_resync: float = 0.01
    """The book is resyncing for some steps."""
    event_delay: float = 0.03
    """Delivery of private events stalls for 1-`max_delay_steps` steps (beyond the ack timeout at times)."""
    event_duplicate: float = 0.05
    """Per emitted event: the venue emits it twice."""
    event_reorder: float = 0.15
    """Per group of events one request caused: the venue emits them shuffled (a fill before its ack)."""
    reject: float = 0.03
    """Per order arriving at the venue: refused for a reason outside the book."""
    fill_races_cancel: float = 0.15
    """Per cancel arriving for a resting order: a taker fills part of it first."""
    operator_halt: float = 0.005
    """An operator halts the market for some steps, then resumes it."""
    max_outage_steps: int = 10
    max_delay_steps: int = 25
    max_gap_steps: int = 15


class Faults:
    """The seed's random source and the tally of what it injected."""

    def __init__(self, rng: random.Random, rates: FaultRates) -> None:
        self.rng = rng
        self.rates = rates
        self.counts: Counter[str] = Counter({kind: 0 for kind in FAULT_KINDS})

    def draw(self, kind: str, rate: float) -> bool:
        if self.rng.random() < rate:
            self.counts[kind] += 1
            return True
        return False

    def steps(self, most: int) -> int:
        return self.rng.randint(1, most)
