"""Bounded latency samples and counters for status, metrics and the engine benchmark."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

SAMPLES_CAP = 100_000
"""Latency samples kept per series: percentiles cover the most recent ones."""


class Samples:
    """The last `cap` values of one latency series (ns)."""

    def __init__(self, cap: int = SAMPLES_CAP) -> None:
        self._values: deque[int] = deque(maxlen=cap)

    def add(self, value_ns: int) -> None:
        self._values.append(value_ns)

    def __len__(self) -> int:
        return len(self._values)

    def percentile_us(self, q: float) -> float | None:
        if not self._values:
            return None
        return float(np.percentile(np.fromiter(self._values, dtype=np.int64), q)) / 1_000

    def max_us(self) -> float | None:
        return max(self._values) / 1_000 if self._values else None

    def extend(self, other: Samples) -> None:
        self._values.extend(other._values)


@dataclass
class RuntimeStats:
    """What one market task measured. Jitter is the wake-up's lateness against its grid time."""

    cycles: int = 0
    missed_cycles: int = 0
    batches: int = 0
    cycle_ns: Samples = field(default_factory=Samples)
    tick_to_order_ns: Samples = field(default_factory=Samples)
    """From the venue frame carrying the latest book update the cycle decided on being read off the socket
    to the cycle's batch written to the venue socket (includes the wait for the cycle's grid time)."""
    cycle_to_order_ns: Samples = field(default_factory=Samples)
    """From the cycle's start to its batch written to the venue socket."""
    inference_ns: Samples = field(default_factory=Samples)
    jitter_ns: Samples = field(default_factory=Samples)
    market_messages: int = 0
    book_messages: int = 0
    book_snapshots: int = 0
    venue_events: int = 0
    fills_recorded: int = 0
    duplicate_fills: int = 0
    fills_journaled: int = 0
    """Fills made durable in the local fill journal because the ledger database could not take them."""
    ledger_outages: int = 0
    ledger_recoveries: int = 0
    worst_recovery_s: float = 0.0
    """Longest span from the first fill the database refused to quoting again after a reconcile."""
    alerts: Counter[str] = field(default_factory=Counter)
    send_errors: int = 0
    reference_stale_cycles: int = 0
    """Cycles that found the reference feed stale or resyncing (and quoted base quotes)."""
    model_errors: int = 0
