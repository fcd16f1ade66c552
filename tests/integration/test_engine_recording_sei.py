"""Raw recording on Sei: the engine, in-process against the Sei stub node, records every contract `book`
query answer it receives (its market data) into hourly segments with a spec sidecar, and each recorded line
parses back through the venue's own codec into the book the engine saw."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.marketdata import RecorderSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.marketdata.capture import iter_lines, split_line
from flashmm_engine.marketdata.spec import recorded_spec
from flashmm_engine.types import Side
from flashmm_engine.venues.sei.codec import FinCodec
from flashmm_engine.venues.sei.stub.server import StubNode
from flashmm_engine.venues.sei.units import DenomMarket
from tests.integration.sei_support import taker_order, venue_settings, wait_blocks
from tests.integration.telemetry_support import wait_until

LINES = 10
WAIT_S = 90.0
BOOK_PRICE = 250_000
BOOK_HALF_WIDTH = 1_000


async def test_every_book_answer_from_sei_is_recorded(stub: StubNode, tmp_path: Path) -> None:
    await taker_order(stub, Side.BUY, BOOK_PRICE - BOOK_HALF_WIDTH, 100, 0)
    await taker_order(stub, Side.SELL, BOOK_PRICE + BOOK_HALF_WIDTH, 100, 1)
    await wait_blocks(2)
    sei = venue_settings(stub)
    raw_dir = tmp_path / "raw"
    settings = Settings(
        engine=EngineSettings(
            venue="sei",
            markets=[sei.market],
            ledger_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"),
        ),
        sei=sei,
        recorder=RecorderSettings(directory=raw_dir),
    )
    runtime = EngineRuntime(settings, [sei.market])
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.wait_for(runtime.started.wait(), WAIT_S)
    recorder = runtime.telemetry.recorder
    assert recorder is not None
    (runner,) = runtime.runners
    await wait_until(lambda: runner.stats.book_messages >= LINES, WAIT_S, f"{LINES} books")
    stop.set()
    await task
    segments = sorted((raw_dir / "sei").glob("*.raw.gz"))
    lines = [split_line(line) for path in segments for line in iter_lines(path)]
    codec = FinCodec(DenomMarket.from_settings(sei))
    books = [codec.parse_book(orjson.loads(raw)) for _, raw in lines]
    consumed = runner.stats.book_messages
    print(f"\nsei recording: {len(lines)} lines in {len(segments)} segments, {consumed} consumed")
    assert len(lines) == recorder.lines >= runner.stats.book_messages >= LINES
    assert all(bids and asks for bids, asks in books), "every recorded answer holds the two-sided book"
    assert [ts for ts, _ in lines] == sorted(ts for ts, _ in lines)
    spec = recorded_spec(segments[0])
    assert spec is not None and spec.venue == "sei" and spec.market_spec() == runner.link.spec
