"""`flashmm soak`: a long run of the engine against the sim venue, sampled for leaks (engine/soak.py)."""

from __future__ import annotations

import asyncio

import click

from flashmm_engine.cli_support import emit
from flashmm_engine.telemetry.logs import configure_logging

DEFAULT_FEED_RATE = 1_200
"""Agent order events per second over all markets: the sim venue's default rate (120/s) per market."""


@click.command("soak")
@click.option("--minutes", type=click.FloatRange(0.1, 24 * 60), default=60.0, help="Run time after start.")
@click.option("--markets", "n_markets", type=click.IntRange(1, 64), default=10, help="Markets in one engine.")
@click.option("--hz", type=click.FloatRange(1, 20), default=5.0, help="Cycle rate.")
@click.option(
    "--feed-rate",
    type=click.IntRange(1, 1_000_000),
    default=DEFAULT_FEED_RATE,
    help="Agent events/s, all markets.",
)
@click.option(
    "--warmup-minutes",
    type=click.FloatRange(0, 24 * 60),
    default=5.0,
    help="Samples before this are excluded from the growth figures.",
)
@click.option("--interval-s", type=click.FloatRange(1, 3600), default=60.0, help="Seconds between samples.")
def soak(
    minutes: float, n_markets: int, hz: float, feed_rate: int, warmup_minutes: float, interval_s: float
) -> None:
    """Run the engine against sim venues; print one JSON line per sample, then the growth per hour."""
    if warmup_minutes >= minutes:
        raise click.BadParameter(f"must be below --minutes ({minutes})", param_hint="--warmup-minutes")
    configure_logging("WARNING")
    from flashmm_engine.engine.soak import run_soak
    from flashmm_engine.features.warm_up import warm_up

    warm_up()  # compiling the feature kernel on the event loop would stall the first cycles

    emit(asyncio.run(run_soak(minutes, n_markets, hz, feed_rate, warmup_minutes, interval_s, emit)))
