"""`flashmm venue sim`: run the simulated exchange, or print the synthetic market's stylized facts."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import orjson

from flashmm_engine.cli_support import PORT, emit, listen_failed, start_command
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.errors import InputError
from flashmm_engine.service.signals import install_stop_signals
from flashmm_engine.types import NOTIONAL_SCALE, MarketSpec
from flashmm_engine.venues.sim.account_file import load_accounts
from flashmm_engine.venues.sim.drivers import MarketDriver, ReplayDriver, SyntheticDriver
from flashmm_engine.venues.sim.exchange import EngineExchange
from flashmm_engine.venues.sim.from_settings import cash_sim_market, sim_spec, synthetic_params
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import MatchingEngine
from flashmm_engine.venues.sim.server import SimVenueServer, new_session_id, wall_clock
from flashmm_engine.venues.sim.synthetic import SyntheticFlow

log = logging.getLogger(__name__)


@click.command("sim")
@click.option("--describe", is_flag=True, help="Print the synthetic market's stylized facts (JSON) and exit.")
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Simulated span for --describe (default FLASHMM_SIM__SYNTHETIC__DESCRIBE_SECONDS).",
)
@click.option("--port", type=PORT, default=None, help="Override FLASHMM_SIM__PORT (0 = any free port).")
@click.option(
    "--capture",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Replay this raw capture instead of synthetic flow.",
)
def venue_sim(describe: bool, seconds: float | None, port: int | None, capture: Path | None) -> None:
    """Run the local simulated exchange on 127.0.0.1 (websocket)."""
    settings = start_command()
    if seconds is not None and not describe:
        raise click.UsageError("--seconds applies to --describe only")
    sim = settings.sim.model_copy(
        update={k: v for k, v in (("port", port), ("capture", capture)) if v is not None}
    )
    if describe:
        from flashmm_engine.venues.sim.stylized import describe as describe_market

        span = sim.synthetic.describe_seconds if seconds is None else seconds
        emit(describe_market(sim_spec(sim), synthetic_params(sim), sim.synthetic.seed, span))
        return
    if not sim.api_keys:
        raise InputError('no API keys: set FLASHMM_SIM__API_KEYS=\'{"account": "key"}\'')
    asyncio.run(_serve(sim))


def build_venue(sim: SimSettings) -> tuple[MatchingEngine, MarketDriver, MarketSpec, SimVenueServer]:
    session = new_session_id()
    prefix = f"{session}-"
    if sim.capture is None:
        spec = sim_spec(sim)
        engine = MatchingEngine([cash_sim_market(sim)], prefix)
        flow = SyntheticFlow(engine, spec.symbol, synthetic_params(sim), sim.synthetic.seed, wall_clock())
        driver: MarketDriver = SyntheticDriver(flow, EngineExchange(engine, spec.symbol))
        clock = wall_clock
    else:
        from flashmm_engine.venues.captures import load_capture
        from flashmm_engine.venues.sim.queue import parse_queue_model
        from flashmm_engine.venues.sim.replay_columns import merge_tables
        from flashmm_engine.venues.sim.replay_market import ReplayMarket

        tables = load_capture(sim.capture)
        spec = tables.spec
        engine = MatchingEngine([SimMarket(spec, sim.maker_fee_ppm, sim.taker_fee_ppm)], prefix)
        replay = ReplayMarket(engine, spec.symbol, parse_queue_model(sim.queue_model), sim.partial_fills)
        columns = merge_tables(tables)
        driver = ReplayDriver(columns, replay)
        clock = _replay_clock(columns.ts[0], sim.replay_speed)
    kept = load_accounts(sim.state_file, spec.symbol) if sim.state_file is not None else None
    for account in sim.api_keys:
        if kept is not None and account in kept:
            base, quote = kept[account]
        else:
            base = spec.size_to_lots(sim.fund_base)
            quote = int(sim.fund_quote / (spec.tick_size * spec.lot_size) * NOTIONAL_SCALE)
        engine.fund(account, spec.symbol, base=base, quote=quote)
    # logged before the port is bound: a start that fails to listen prints only its one error line
    log.debug("sim venue session %s (%s)", session, "accounts kept" if kept else "accounts funded")
    return engine, driver, spec, SimVenueServer(sim, engine, driver, spec, clock, session)


def _replay_clock(start_ns: int, speed: float) -> Callable[[], int]:
    wall_start = time.time_ns()

    def now() -> int:
        return start_ns + round((time.time_ns() - wall_start) * speed)

    return now


async def _serve(sim: SimSettings) -> None:
    _, _, spec, server = build_venue(sim)
    stop = asyncio.Event()
    install_stop_signals(stop)

    def ready(port: int) -> None:
        url = f"ws://{sim.host}:{port}"
        log.info("sim venue listening on %s (market %s, session %s)", url, spec.symbol, server.session)
        sys.stdout.write(orjson.dumps({"url": url, "market": spec.symbol}).decode() + "\n")
        sys.stdout.flush()

    try:
        await server.run(stop, ready)
    except OSError as exc:
        raise listen_failed("venue sim", sim.host, sim.port, exc) from None
    log.info("sim venue stopped; bad input counts: %s", dict(server.bad_input.counts))
