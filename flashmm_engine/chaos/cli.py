"""`flashmm chaos sim`: the seeded fault simulation of engine, venue and ledger."""

from __future__ import annotations

import logging
import sys
import time

import click

from flashmm_engine.chaos.batch import BatchSummary, run_batch
from flashmm_engine.chaos.sim import run_seed
from flashmm_engine.cli_support import emit
from flashmm_engine.errors import CommandFailed

PROGRESS_EVERY = 50
DEFAULT_STEPS = 150


@click.command("sim")
@click.option("--seeds", type=click.IntRange(1), default=100, show_default=True, help="How many seeds.")
@click.option("--start", type=click.IntRange(0), default=0, show_default=True, help="First seed.")
@click.option(
    "--steps", type=click.IntRange(1), default=DEFAULT_STEPS, show_default=True, help="Cycles per seed."
)
@click.option("--seed", type=click.IntRange(0), default=None, help="Replay one seed and print its trace.")
@click.option("--jobs", type=click.IntRange(1), default=1, show_default=True, help="Worker processes.")
def sim(seeds: int, start: int, steps: int, seed: int | None, jobs: int) -> None:
    """Run the engine's trading core against the sim matching engine and a ledger under seeded faults,
    checking the invariants after every step. Prints {seeds, steps, faults, violations} as one JSON line
    and exits 1 if any invariant broke; `--seed X` replays one seed exactly, with its step trace."""
    if seed is not None:
        _replay(seed, steps)
        return
    began = time.monotonic()

    def progress(summary: BatchSummary) -> None:
        if summary.seeds % PROGRESS_EVERY == 0 or summary.seeds == seeds:
            click.echo(
                f"chaos: {summary.seeds}/{seeds} seeds, {summary.violations} violations, "
                f"{time.monotonic() - began:.0f} s",
                err=True,
            )

    summary = run_batch(range(start, start + seeds), steps, jobs, progress)
    emit({**summary.as_json(), "elapsed_s": round(time.monotonic() - began, 1)})
    if summary.violations:
        first = summary.failing[0][0]
        raise CommandFailed(f"{summary.violations} invariant violations; replay with --seed {first}")


def _replay(seed: int, steps: int) -> None:
    logging.getLogger("flashmm_engine").setLevel(logging.ERROR)
    result = run_seed(seed, steps, trace=True)
    for line in result.trace:
        sys.stderr.write(line + "\n")
    emit(
        {
            "seed": seed,
            "steps": steps,
            "fills": result.fills,
            "faults": dict(result.faults),
            "violations": result.violations,
            "trace": result.trace,
        }
    )
    if result.violations:
        raise CommandFailed(f"seed {seed}: {result.violations[0]}")
