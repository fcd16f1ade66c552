"""Circular block bootstrap over time for per-sample scores: samples a few hundred milliseconds apart are
strongly autocorrelated, so resampling single rows would give intervals far too narrow.

Every statistic here is a ratio of sums over samples (a mean is a sum over a count), so each replicate is
the sum of k randomly started blocks of consecutive samples; block sums come from one cumulative sum, and
model and baseline share the same draws (a paired bootstrap, which is what the difference needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class BootstrapConfig:
    reps: int = 2_000
    block_samples: int = 50
    """Consecutive samples per block (50 at the 200 ms tick: 10 s, far beyond the 1 s label horizon)."""
    level: float = 0.95
    seed: int = 20240808

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "method": "circular block bootstrap, paired, percentile intervals",
            "reps": self.reps,
            "block_samples": self.block_samples,
            "level": self.level,
            "seed": self.seed,
        }


class BlockBootstrap:
    """Block starts drawn once for a series of length n; reused for every statistic on that series."""

    def __init__(self, n: int, config: BootstrapConfig) -> None:
        if n <= 0:
            raise ValueError("bootstrap needs at least one sample")
        self.n = n
        self.block = max(1, min(config.block_samples, n))
        self.config = config
        blocks = -(-n // self.block)
        rng = np.random.default_rng(config.seed)
        self.starts = rng.integers(0, n, size=(config.reps, blocks))

    def replicate_sums(self, values: NDArray[Any]) -> NDArray[Any]:
        """(reps,) sums of `values` over each replicate's blocks (wrapping around the end)."""
        extended = np.concatenate([values, values[: self.block - 1]]).astype(np.float64)
        cumulative = np.concatenate([[0.0], np.cumsum(extended)])
        block_sums = cumulative[self.block : self.block + self.n] - cumulative[: self.n]
        sums: NDArray[Any] = block_sums[self.starts].sum(axis=1)
        return sums

    def ratio(self, numerator: NDArray[Any], denominator: NDArray[Any]) -> NDArray[Any]:
        num, den = self.replicate_sums(numerator), self.replicate_sums(denominator)
        out: NDArray[Any] = np.divide(num, den, out=np.full_like(num, np.nan), where=den > 0)
        return out

    def mean(self, values: NDArray[Any]) -> NDArray[Any]:
        return self.ratio(values, np.ones(self.n))

    def interval(self, replicates: NDArray[Any]) -> list[float]:
        finite = replicates[np.isfinite(replicates)]
        if not len(finite):
            return [float("nan"), float("nan")]
        tail = (1 - self.config.level) / 2 * 100
        low, high = np.percentile(finite, [tail, 100 - tail])
        return [float(low), float(high)]
