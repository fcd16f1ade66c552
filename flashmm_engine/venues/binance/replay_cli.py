"""`flashmm replay serve | verify-book | watch`: each prints one JSON object on stdout, logs on stderr."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from flashmm_engine.cli_support import PORT, emit, listen_failed, start_command
from flashmm_engine.config.home import ensure_dir
from flashmm_engine.errors import CommandFailed, InputError
from flashmm_engine.marketdata.recorder import RawRecorder
from flashmm_engine.marketdata.source import CaptureInfo
from flashmm_engine.service.signals import install_stop_signals
from flashmm_engine.service.tasks import TaskTracker
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
FRACTION = click.FloatRange(0.0, 1.0)
POSITIVE_SECONDS = click.FloatRange(min=0, min_open=True)

capture_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))


def replay_options(command: Any) -> Any:
    options = [
        click.option(
            "--speed",
            type=click.FloatRange(min=0),
            default=1.0,
            show_default=True,
            help="1 = as recorded, N = N times faster, 0 = as fast as the client reads (paused while none).",
        ),
        click.option(
            "--disconnect-every",
            type=click.FloatRange(min=0),
            default=0.0,
            help="Close all clients every N wall-clock seconds (0 = off; for people, not tests).",
        ),
        click.option(
            "--disconnect-after-messages",
            type=click.IntRange(min=0),
            default=0,
            help="Close each connection after it was sent N messages (0 = off; deterministic).",
        ),
        click.option("--drop", type=FRACTION, default=0.0, help="Fraction of messages dropped per client."),
        click.option("--duplicate", type=FRACTION, default=0.0, help="Fraction of messages sent twice."),
        click.option(
            "--reorder", type=FRACTION, default=0.0, help="Fraction of messages swapped with the next one."
        ),
        click.option("--seed", type=int, default=None, help="Seed of the fault injection."),
        click.option("--port", type=PORT, default=0, help="Port on 127.0.0.1 (0 = any free port)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _server(info: CaptureInfo, opts: dict[str, Any]) -> ReplayServer:
    faults = FaultPlan(
        disconnect_every_s=opts["disconnect_every"],
        disconnect_after_messages=opts["disconnect_after_messages"],
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
    return ReplayServer(
        lines,
        as_market(info.market),
        info.symbol,
        speed=opts["speed"],
        faults=faults,
        port=opts["port"],
        spec=info.spec,
    )


@click.command("verify-book")
@capture_argument
@capture_options
def verify_book(file: Path, market: str | None, symbol: str | None, exchange_info: Path | None) -> None:
    """Rebuild the book from FILE with the live sync code and compare it with every matching bookTicker."""
    start_command()
    source, info = open_capture(file, market, symbol, exchange_info)
    emit(verify_capture(source, info))


@click.command("serve")
@capture_argument
@capture_options
@replay_options
def serve(
    file: Path, market: str | None, symbol: str | None, exchange_info: Path | None, **opts: Any
) -> None:
    """Serve FILE on 127.0.0.1 as a Binance combined-stream websocket plus REST depth snapshots."""
    start_command()
    _, info = open_capture(file, market, symbol, exchange_info)
    summary = asyncio.run(_serve(_server(info, opts)))
    if not summary["sent"]:
        raise CommandFailed(
            f"served no message of {file} ({summary['lines']} lines loaded, {summary['position']} replayed)"
        )
    emit({**info.describe(), **summary})


async def _serve(server: ReplayServer) -> dict[str, Any]:
    stop = asyncio.Event()
    install_stop_signals(stop)
    await _start(server)
    log.info("serving: websocket %s/stream?streams=...  REST %s", server.ws_url, server.base_url)
    ready = {"ws_url": server.ws_url, "rest_url": server.base_url, "market": server.market}
    emit({**ready, "symbol": server.symbol, "streams": sorted(server.streams)})
    try:
        await stop.wait()
    finally:
        await server.stop()
    return {
        "ws_url": server.ws_url,
        "rest_url": server.base_url,
        "lines": len(server.lines),
        "sent": server.sent,
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
    "--print-every",
    type=POSITIVE_SECONDS,
    default=1.0,
    show_default=True,
    help="Top-of-book print period (s).",
)
@click.option(
    "--stale-after", type=POSITIVE_SECONDS, default=5.0, show_default=True, help="Stale-feed timeout (s)."
)
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
    start_command()
    if record is not None:
        _check_writable(record)
    _, info = open_capture(file, market, symbol, exchange_info)
    server = _server(info, opts)
    prefix = f"binance-{info.market}-{info.symbol.lower()}"
    recorder = RawRecorder(record, prefix, info.spec) if record else None
    summary = asyncio.run(_watch(server, recorder, print_every, stale_after))
    if not summary["messages"]:
        raise CommandFailed(f"the connector received no message from the replay of {file}")
    if recorder is not None and summary["recorded_lines"] < summary["messages"]:
        raise CommandFailed(
            f"recorded {summary['recorded_lines']} of {summary['messages']} received messages to {record}"
        )
    emit({**info.describe(), **summary})


def _check_writable(directory: Path) -> None:
    """An unusable recording directory stops `watch` before it replays anything."""
    ensure_dir(directory, "the recording directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"cannot record to {directory}: the directory is not writable")


async def _start(server: ReplayServer) -> None:
    try:
        await server.start()
    except OSError as exc:
        raise listen_failed("replay", server.host, server.port, exc) from None


async def _watch(
    server: ReplayServer, recorder: RawRecorder | None, print_every: float, stale_after: float
) -> dict[str, Any]:
    started = time.monotonic()
    stop = asyncio.Event()
    install_stop_signals(stop)
    await _start(server)
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
