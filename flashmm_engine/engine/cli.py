"""`flashmm engine run` and `flashmm bench engine`."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from flashmm_engine.cli_support import emit, start_command
from flashmm_engine.config.secret_files import SecretFileError, read_secret_file
from flashmm_engine.config.settings import Settings
from flashmm_engine.errors import InputError
from flashmm_engine.telemetry.logs import configure_logging

if TYPE_CHECKING:
    from flashmm_engine.engine.runtime import EngineRuntime

log = logging.getLogger(__name__)


def settings_from(config: Path | None) -> Settings:
    """Settings from the environment, with FLASHMM_* lines of an env file filling what it does not set.
    The file may hold API keys: like a key file, it is refused when others may access it."""
    if config is not None:
        from dotenv import dotenv_values

        try:
            text = read_secret_file(config, "--config file").get_secret_value()
        except SecretFileError as exc:
            raise InputError(str(exc)) from None
        values = dotenv_values(stream=io.StringIO(text))
        foreign = sorted(k for k in values if not k.startswith("FLASHMM_"))
        if foreign:
            raise InputError(f"--config {config}: expected only FLASHMM_* settings, found {foreign}")
        for key, value in values.items():
            if value is not None:
                os.environ.setdefault(key, value)
    return start_command()


def parse_markets(option: str | None, settings: Settings) -> list[str]:
    if option is None:
        return list(settings.engine.markets)
    markets = [m.strip() for m in option.split(",") if m.strip()]
    if not markets:
        raise InputError(f"--markets {option!r}: expected a comma-separated list of market names")
    return markets


@click.command("run")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Env file of FLASHMM_* settings (the environment wins over it).",
)
@click.option("--markets", default=None, help="Comma-separated subset of engine.markets to run.")
def run(config: Path | None, markets: str | None) -> None:
    """Run the live engine: reconcile, then quote every market on the cycle grid until SIGTERM."""
    settings = settings_from(config)
    from flashmm_engine.engine.runtime import EngineRuntime

    runtime = EngineRuntime(settings, parse_markets(markets, settings))
    prepare_before_loop(settings)
    asyncio.run(_run(runtime))
    # Orders are cancelled, the ledger is flushed and closed: skip the interpreter's teardown (garbage
    # collecting every module takes seconds on a loaded machine) so SIGTERM-to-exit stays within budget.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def prepare_before_loop(settings: Settings) -> None:
    """Slow one-time work, done before the event loop starts: on the loop it would stall the control API
    and the first cycles for as long as it takes. Compiling the feature kernel (after a fresh checkout, when
    numba has no cached machine code), and importing torch when a model will be served (seconds)."""
    from flashmm_engine.features.warm_up import warm_up

    log.info("feature kernel ready in %.1f s", warm_up())
    if settings.engine.model_name is not None:
        started = time.perf_counter()
        import torch  # noqa: F401 - imported here so that loading a model on the loop does not

        log.info("torch imported in %.1f s", time.perf_counter() - started)


async def _run(runtime: EngineRuntime) -> None:
    from flashmm_engine.service.signals import install_stop_signals

    stop = asyncio.Event()
    install_stop_signals(stop)
    await runtime.run(stop)


@click.command("engine")
@click.option("--markets", "n_markets", type=click.IntRange(1, 64), default=1, help="Markets in one process.")
@click.option("--seconds", type=click.FloatRange(1, 3600), default=20.0, help="Measured run time.")
@click.option("--hz", type=click.FloatRange(1, 20), default=5.0, help="Cycle rate.")
@click.option(
    "--feed-rate", type=click.IntRange(1, 1_000_000), default=20_000, help="Book messages/s in total."
)
@click.option("--shadow", is_flag=True, help="Also run a shadow challenger (a second model, never traded).")
@click.option("--redis-url", default=None, help="Redis hot state and model stream at this URL.")
@click.option("--influx-url", default=None, help="InfluxDB 2.x write URL (victoria-metrics on loopback).")
@click.option(
    "--scrape-hz", type=click.FloatRange(0, 10), default=0.0, help="GET /metrics this often (0: never)."
)
def bench_engine(
    n_markets: int,
    seconds: float,
    hz: float,
    feed_rate: int,
    shadow: bool,
    redis_url: str | None,
    influx_url: str | None,
    scrape_hz: float,
) -> None:
    """Benchmark the runtime against the sim venue with a real TorchScript model; prints one JSON object."""
    configure_logging("WARNING")
    from flashmm_engine.engine.bench import BenchTelemetry, run_bench

    telemetry = BenchTelemetry(redis_url, influx_url, scrape_hz)
    result = asyncio.run(run_bench(n_markets, seconds, hz, feed_rate, shadow, telemetry))
    emit(result)
