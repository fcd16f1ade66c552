"""`flashmm replay serve | verify-book | watch`: each prints one JSON object on stdout, logs on stderr."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import orjson

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.recorder import RawRecorder
from flashmm_engine.marketdata.source import CaptureInfo
from flashmm_engine.service.signals import install_stop_signals
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.telemetry.logs import configure_logging
from flashmm_engine.venues.binance.faults import FaultPlan
from flashmm_engine.venues.binance.feed import BinanceFeed, FeedConfig
from flashmm_engine.venues.binance.markets import as_market
from flashmm_engine.venues.binance.replay_server import ReplayServer, load_replay_lines
from flashmm_engine.venues.binance.verify import verify_capture
from flashmm_engine.venues.capture_cli import capture_options
from flashmm_engine.venues.captures import open_capture

log = logging.getLogger(__name__)

DRAIN_S = 1.0
"""After the replay ends, time left for the connector to consume what is still in flight."""

capture_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))


def replay_options(command: Any) -> Any:
    options = [
        click.option("--speed", type=float, default=1.0, show_default=True, help="1 = as recorded, 0 = max."),
        click.option(
            "--disconnect-every", type=float, default=0.0, help="Close all clients every N s (0 = off)."
        ),
        click.option("--drop", type=float, default=0.0, help="Fraction of messages dropped per client."),
        click.option("--duplicate", type=float, default=0.0, help="Fraction of messages sent twice."),
        click.option(
            "--reorder", type=float, default=0.0, help="Fraction of messages swapped with the next one."
        ),
        click.option("--seed", type=int, default=None, help="Seed of the fault injection."),
        click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (0 = any free port)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    sys.stdout.flush()


def _server(info: CaptureInfo, opts: dict[str, Any]) -> ReplayServer:
    faults = FaultPlan(
        disconnect_every_s=opts["disconnect_every"],
        drop=opts["drop"],
        duplicate=opts["duplicate"],
        reorder=opts["reorder"],
        seed=opts["seed"],
    )
    lines = load_replay_lines(info.path)
    if not any(line.stream is None for line in lines):
        raise InputError(
            f"{info.path}: no REST depth snapshot line among {len(lines)} lines; the replay's book could not "
            f"sync (expected a {info.market} {info.symbol} capture with its snapshot)"
        )
    market = as_market(info.market)
    return ReplayServer(
        lines, market, info.symbol, speed=opts["speed"], faults=faults, port=opts["port"], spec=info.spec
    )


@click.command("verify-book")
@capture_argument
@capture_options
def verify_book(file: Path, market: str | None, symbol: str | None, exchange_info: Path | None) -> None:
    """Rebuild the book from FILE with the live sync code and compare it with every matching bookTicker."""
    configure_logging()
    source, info = open_capture(file, market, symbol, exchange_info)
    _emit(verify_capture(source, info))


@click.command("serve")
@capture_argument
@capture_options
@replay_options
def serve(
    file: Path, market: str | None, symbol: str | None, exchange_info: Path | None, **opts: Any
) -> None:
    """Serve FILE on 127.0.0.1 as a Binance combined-stream websocket plus REST depth snapshots."""
    configure_logging()
    _, info = open_capture(file, market, symbol, exchange_info)
    _emit({**info.describe(), **asyncio.run(_serve(_server(info, opts)))})


async def _serve(server: ReplayServer) -> dict[str, Any]:
    stop = asyncio.Event()
    install_stop_signals(stop)
    await server.start()
    log.info("serving: websocket %s/stream?streams=...  REST %s", server.ws_url, server.base_url)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return {
        "ws_url": server.ws_url,
        "rest_url": server.base_url,
        "lines": len(server.lines),
        "position": server.position,
        "finished": server.finished.is_set(),
        "faults_injected": asdict(server.fault_counts),
    }


@click.command("watch")
@capture_argument
@capture_options
@replay_options
@click.option(
    "--record", type=click.Path(file_okay=False, path_type=Path), default=None, help="Record raw to DIR."
)
@click.option(
    "--print-every", type=float, default=1.0, show_default=True, help="Top-of-book print period (s)."
)
@click.option("--stale-after", type=float, default=5.0, show_default=True, help="Stale-feed timeout (s).")
def watch(
    file: Path,
    market: str | None,
    symbol: str | None,
    exchange_info: Path | None,
    record: Path | None,
    print_every: float,
    stale_after: float,
    **opts: Any,
) -> None:
    """Replay FILE in-process and run the live connector against it, printing the top of book to stderr."""
    configure_logging()
    _, info = open_capture(file, market, symbol, exchange_info)
    server = _server(info, opts)
    prefix = f"binance-{info.market}-{info.symbol.lower()}"
    recorder = RawRecorder(record, prefix, info.spec) if record else None
    _emit({**info.describe(), **asyncio.run(_watch(server, recorder, print_every, stale_after))})


async def _watch(
    server: ReplayServer, recorder: RawRecorder | None, print_every: float, stale_after: float
) -> dict[str, Any]:
    started = time.monotonic()
    stop = asyncio.Event()
    install_stop_signals(stop)
    await server.start()
    config = FeedConfig(
        market=server.market,
        symbol=server.symbol,
        ws_urls=(server.ws_url,),
        rest_urls=(server.base_url,),
        stale_after_s=stale_after,
        spec=server.instrument,
    )
    feed = BinanceFeed(config, recorder=recorder)
    tasks = TaskTracker("watch")
    feed_task = tasks.spawn(feed.run(stop), "feed")
    tasks.spawn(_print_top(feed, print_every), "printer")
    tasks.spawn(_stop_after_end(server, stop), "end-watcher")
    try:
        await stop.wait()
        await asyncio.wait({feed_task}, timeout=DRAIN_S + stale_after)
    finally:
        await tasks.shutdown()
        await server.stop()
        if recorder is not None:
            recorder.close()
    return {
        "seconds": round(time.monotonic() - started, 3),
        "replay_lines": len(server.lines),
        "replayed": server.position,
        "ended_by": "end_of_capture" if server.finished.is_set() else "signal",
        "faults_injected": asdict(server.fault_counts),
        "recorded_lines": recorder.lines if recorder else 0,
        **feed.summary(),
    }


async def _stop_after_end(server: ReplayServer, stop: asyncio.Event) -> None:
    await server.finished.wait()
    await asyncio.sleep(DRAIN_S)
    stop.set()


async def _print_top(feed: BinanceFeed, every_s: float) -> None:
    spec = feed.processor.spec
    while True:
        await asyncio.sleep(every_s)
        bid, ask = feed.processor.book.best_bid(), feed.processor.book.best_ask()
        if bid is None or ask is None or feed.processor.needs_snapshot:
            click.echo("book: syncing", err=True)
            continue
        click.echo(
            f"bid {spec.lots_to_size(bid[1])} @ {spec.ticks_to_price(bid[0])} | "
            f"ask {spec.lots_to_size(ask[1])} @ {spec.ticks_to_price(ask[0])} | "
            f"msgs {feed.processor.messages} resyncs {feed.processor.resyncs}",
            err=True,
        )
