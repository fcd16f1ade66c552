"""Exponential backoff with full jitter, for every reconnect loop."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delays grow as base * factor**attempt, capped, each drawn uniformly in [0, cap] ("full jitter").

    Full jitter spreads reconnects of many clients so they do not stampede a recovering server.
    """

    base_s: float = 0.2
    factor: float = 2.0
    max_s: float = 10.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.base_s * self.factor**self.attempt)
        self.attempt += 1
        return self.rng.uniform(0.0, ceiling)

    def reset(self) -> None:
        self.attempt = 0
