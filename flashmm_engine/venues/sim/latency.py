"""Feed and order latencies: constant, or drawn from a recorded distribution (seeded)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flashmm_engine.types import NS_PER_MS


class Latency(Protocol):
    def draw_ns(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ConstantLatency:
    ns: int

    def draw_ns(self) -> int:
        return self.ns


class EmpiricalLatency:
    """Samples a recorded set of latencies uniformly, from a seeded generator (deterministic runs)."""

    def __init__(self, samples_ns: Sequence[int], seed: int) -> None:
        if not samples_ns:
            raise ValueError("empirical latency needs at least one sample")
        if min(samples_ns) < 0:
            raise ValueError("latency samples must be non-negative")
        self._samples = list(samples_ns)
        self._rng = random.Random(seed)

    def draw_ns(self) -> int:
        return self._samples[self._rng.randrange(len(self._samples))]


def parse_latency(text: str, seed: int = 0) -> Latency:
    """'10' or '10ms' = constant milliseconds; 'file:PATH' = one latency in ns per line, sampled."""
    if text.startswith("file:"):
        lines = Path(text[5:]).read_text().split()
        return EmpiricalLatency([int(x) for x in lines], seed)
    value = text.removesuffix("ms")
    try:
        ms = float(value)
    except ValueError:
        raise ValueError(f"latency {text!r}: use milliseconds (e.g. 10) or file:PATH") from None
    if ms < 0:
        raise ValueError(f"latency {text!r} must be non-negative")
    return ConstantLatency(round(ms * NS_PER_MS))
