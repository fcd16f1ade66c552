"""Fault injection for the replay server: drop, duplicate or reorder a fraction of messages per client
(seeded draws over the message stream), and disconnect each connection after a number of messages."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FaultPlan:
    disconnect_every_s: float = 0.0  # wall-clock, for people watching; 0 = never
    disconnect_after_messages: int = 0  # per connection, by message count (deterministic); 0 = never
    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "reorder"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault fraction {name}={value} must be within [0, 1]")
        if self.disconnect_every_s < 0:
            raise ValueError("disconnect_every_s must be >= 0")
        if self.disconnect_after_messages < 0:
            raise ValueError("disconnect_after_messages must be >= 0")

    @property
    def active(self) -> bool:
        return bool(
            self.disconnect_every_s
            or self.disconnect_after_messages
            or self.drop
            or self.duplicate
            or self.reorder
        )


@dataclass
class FaultCounts:
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    disconnects: int = 0


@dataclass
class FaultInjector:
    """Turns each outgoing message into zero, one or two messages, possibly swapped with the next one."""

    plan: FaultPlan
    counts: FaultCounts
    rng: random.Random = field(default_factory=random.Random)
    _held: str | None = None

    def apply(self, message: str) -> list[str]:
        plan, draw = self.plan, self.rng.random
        if plan.drop and draw() < plan.drop:
            self.counts.dropped += 1
            return []
        out = [message, message] if plan.duplicate and draw() < plan.duplicate else [message]
        if len(out) == 2:
            self.counts.duplicated += 1
        if self._held is not None:
            out.append(self._held)  # the held message goes out after a newer one: a reordering
            self._held = None
            return out
        if plan.reorder and draw() < plan.reorder:
            self.counts.reordered += 1
            self._held = out.pop()
        return out
