"""`flashmm backtest`: replay a capture (or a synthetic session) through the sim venue's matching code."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import cast

import click

from flashmm_engine.backtest.build import BacktestOptions, StrategyName
from flashmm_engine.cli_support import emit, start_command
from flashmm_engine.errors import CommandFailed, InputError
from flashmm_engine.strategy.avellaneda import BaseModel
from flashmm_engine.venues.capture_cli import capture_options

log = logging.getLogger(__name__)


@click.command("backtest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option(
    "--synthetic",
    "synthetic_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Backtest SECONDS of synthetic flow.",
)
@capture_options
@click.option(
    "--strategy",
    type=click.Choice(["fixed", "mm"]),
    default="fixed",
    show_default=True,
    help="fixed: the fixed-spread cross-check; mm: AS/GLFT quoting on replayed features.",
)
@click.option("--base", type=click.Choice(["as", "glft"]), default="as", show_default=True, help="mm only.")
@click.option("--gamma", type=click.FloatRange(min=0, min_open=True), default=0.05, show_default=True)
@click.option(
    "--horizon-s", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True, help="AS T-t."
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Model artifact directory: mm quotes with the model's skew (needs FILE).",
)
@click.option(
    "--max-notional",
    type=click.FloatRange(min=0, min_open=True),
    default=2000.0,
    show_default=True,
    help="Risk limit on |position| x price, worst case, in quote currency.",
)
@click.option("--stale-feed-ms", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option(
    "--from-fraction",
    type=click.FloatRange(0.0, 0.99),
    default=0.0,
    show_default=True,
    help="Trade only after this fraction of the capture's span (0.7 = the held-out 30%).",
)
@click.option("--half-spread-ticks", type=click.IntRange(min=0), default=5, show_default=True)
@click.option(
    "--order-size", type=click.IntRange(min=1), default=1, show_default=True, help="Lots per quote."
)
@click.option("--max-position", type=click.IntRange(min=1), default=10, show_default=True, help="Lots.")
@click.option(
    "--skew-ticks",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Quote shift in ticks per order-size of inventory.",
)
@click.option("--decision-ms", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--order-latency-ms",
    "order_latency",
    default="10",
    show_default=True,
    help="Milliseconds, or file:PATH of recorded latencies in ns.",
)
@click.option(
    "--response-latency-ms", "response_latency", default=None, help="Defaults to the order latency."
)
@click.option(
    "--feed-latency-ms",
    "feed_latency",
    default=None,
    help="Delay of the strategy's view of the book: ms or file:PATH (default: as recorded).",
)
@click.option("--queue", default="power:2", show_default=True, help="risk-averse | power:N")
@click.option("--partial-fills/--no-partial-fills", default=False, show_default=True)
@click.option("--maker-fee-ppm", type=int, default=0, show_default=True)
@click.option("--taker-fee-ppm", type=int, default=0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of sampled latencies.")
@click.option(
    "--json", "as_json", is_flag=True, help="Accepted for clarity: the result is always one JSON object."
)
def backtest(
    file: Path | None,
    synthetic_s: float | None,
    market: str | None,
    symbol: str | None,
    exchange_info: Path | None,
    strategy: str,
    base: str,
    gamma: float,
    horizon_s: float,
    model_dir: Path | None,
    max_notional: float,
    stale_feed_ms: int,
    from_fraction: float,
    half_spread_ticks: int,
    order_size: int,
    max_position: int,
    skew_ticks: int,
    decision_ms: int,
    order_latency: str,
    response_latency: str | None,
    feed_latency: str | None,
    queue: str,
    partial_fills: bool,
    maker_fee_ppm: int,
    taker_fee_ppm: int,
    seed: int,
    as_json: bool,
) -> None:
    """Backtest the trading core on FILE (a raw capture) or on --synthetic SECONDS."""
    if (file is None) == (synthetic_s is None):
        raise click.UsageError("give either FILE or --synthetic SECONDS")
    if model_dir is not None and strategy != "mm":
        raise InputError("--model needs --strategy mm")
    settings = start_command()
    opts = BacktestOptions(
        strategy=cast("StrategyName", strategy),
        base=cast("BaseModel", base),
        gamma=gamma,
        horizon_s=horizon_s,
        model_dir=model_dir,
        max_notional_quote=Decimal(str(max_notional)),
        stale_feed_ms=stale_feed_ms,
        from_fraction=from_fraction,
        half_spread_ticks=half_spread_ticks,
        order_size=order_size,
        max_position=max_position,
        skew_ticks_per_order=skew_ticks,
        decision_interval_ms=decision_ms,
        order_latency=order_latency,
        response_latency=response_latency,
        feed_latency=feed_latency,
        queue=queue,
        partial_fills=partial_fills,
        maker_fee_ppm=maker_fee_ppm,
        taker_fee_ppm=taker_fee_ppm,
        seed=seed,
    )
    try:
        if file is not None:
            from flashmm_engine.backtest.run import backtest_capture

            log.info("backtesting %s", file)
            result = backtest_capture(file, market, opts, symbol, exchange_info)
        else:
            from flashmm_engine.backtest.synthetic_run import backtest_synthetic

            assert synthetic_s is not None
            log.info("backtesting %.0f s of synthetic flow", synthetic_s)
            result = backtest_synthetic(synthetic_s, settings.sim, opts)
    except (ValueError, OSError) as exc:
        raise InputError(str(exc)) from None
    if not result.get("events"):
        source = file if file is not None else "the synthetic session"
        raise CommandFailed(f"backtest read no market events from {source}: nothing to report")
    emit(result)
