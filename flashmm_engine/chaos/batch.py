"""Many seeds of the chaos simulation: their fault counts summed and their violations collected."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from flashmm_engine.chaos.faults import FAULT_KINDS
from flashmm_engine.chaos.sim import SeedResult, run_seed

FAILING_SEEDS_SHOWN = 20
CHUNK = 8


@dataclass
class BatchSummary:
    seeds: int = 0
    steps: int = 0
    fills: int = 0
    faults: Counter[str] = field(default_factory=lambda: Counter({kind: 0 for kind in FAULT_KINDS}))
    violations: int = 0
    failing: list[tuple[int, str]] = field(default_factory=list)

    def add(self, result: SeedResult) -> None:
        self.seeds += 1
        self.steps += result.steps
        self.fills += result.fills
        self.faults.update(result.faults)
        self.violations += len(result.violations)
        if result.violations and len(self.failing) < FAILING_SEEDS_SHOWN:
            self.failing.append((result.seed, result.violations[0]))

    def as_json(self) -> dict[str, object]:
        return {
            "seeds": self.seeds,
            "steps": self.steps,
            "fills": self.fills,
            "faults": dict(self.faults),
            "violations": self.violations,
            "failing_seeds": [{"seed": s, "first_violation": v} for s, v in self.failing],
        }


def _quiet_seed(seed_steps: tuple[int, int]) -> SeedResult:
    # the core counts and logs every bad input the faults cause; the summary counts the faults instead
    logging.getLogger("flashmm_engine").setLevel(logging.ERROR)
    return run_seed(*seed_steps)


def results(seeds: range, steps: int, jobs: int) -> Iterator[SeedResult]:
    work = [(seed, steps) for seed in seeds]
    if jobs <= 1:
        yield from map(_quiet_seed, work)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_quiet_seed, work, chunksize=CHUNK)


def run_batch(
    seeds: range, steps: int, jobs: int = 1, progress: Callable[[BatchSummary], None] | None = None
) -> BatchSummary:
    summary = BatchSummary()
    for result in results(seeds, steps, jobs):
        summary.add(result)
        if progress is not None:
            progress(summary)
    return summary
