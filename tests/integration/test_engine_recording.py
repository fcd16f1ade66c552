"""Raw recording: the engine, trading against the real sim venue process, writes every market-data frame it
receives into hourly segments with a spec sidecar; the segments read back through the sim's segment reader
hold exactly the frames a proxy in front of the venue forwarded."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.marketdata import RecorderSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.marketdata.spec import recorded_spec
from flashmm_engine.venues.sim.segments import read_sim_segment
from tests.integration.sim_process import sim_venue_process
from tests.integration.telemetry_support import counting_proxy, wait_until

KEY = "recording-test-key"
MARKET = "SIM:ETHUSD"
FRAMES = 300
WAIT_S = 90.0


async def test_every_market_data_frame_is_in_a_segment_with_its_spec(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    env = {"FLASHMM_SIM__PORT": "0", "FLASHMM_SIM__API_KEYS": json.dumps({"mm": KEY})}
    with sim_venue_process([], env, tmp_path) as started:
        async with counting_proxy(started["url"]) as (proxy_url, counts):
            settings = Settings(
                engine=EngineSettings(
                    markets=[MARKET],
                    sim_urls={MARKET: proxy_url},
                    ledger_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"),
                ),
                sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
                recorder=RecorderSettings(directory=raw_dir),
            )
            runtime = EngineRuntime(settings, [MARKET])
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.run(stop))
            await asyncio.wait_for(runtime.started.wait(), WAIT_S)
            recorder = runtime.telemetry.recorder
            assert recorder is not None
            await wait_until(lambda: counts.market_frames >= FRAMES, WAIT_S, f"{FRAMES} frames")
            counts.hold_market = True  # no more market data reaches the engine: the count is final
            forwarded = counts.market_frames
            await wait_until(
                lambda: recorder.lines >= forwarded, WAIT_S, f"the recorder at {forwarded} lines"
            )
            (runner,) = runtime.runners
            consumed = runner.stats.market_messages
            stop.set()
            await task
    segments = sorted((raw_dir / "sim").glob("*.raw.gz"))
    read = [read_sim_segment(path) for path in segments]
    messages = sum(s.messages for s in read)
    events = sum(len(s.events) for s in read)
    kinds = sum((s.kinds for s in read), start=Counter[str]())
    print(f"\nrecorded {messages} frames ({dict(kinds)}) in {len(segments)} segments; forwarded {forwarded}")
    assert segments and all(p.name.startswith("sim-SIM_ETHUSD-") for p in segments)
    assert messages == forwarded == recorder.lines
    assert not any(s.malformed for s in read)
    assert kinds["snapshot"] >= 1, "the snapshot of the handshake is recorded"
    assert events >= consumed, "every event the engine consumed is in the segments"
    spec = recorded_spec(segments[0])
    assert spec is not None and spec.symbol == MARKET and spec.venue == "sim"
    assert spec.market_spec() == runner.link.spec
