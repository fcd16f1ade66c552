"""`flashmm bench pipeline`: a market-day (or H hours) through the daily retrain loop, stage by stage.

The H-hour capture is tiled from a real one (bench/tile.py) into hourly segment files. Segments are then
loaded one at a time through one feed pipeline (parse, sync, book, normalized tables: the book stays in
sync across segments, as a live feed's would), and each segment's events go straight into one feature run,
so memory holds one hour of tables at a time. Then labels, training with input selection, TorchScript
export and registration, and a validation backtest with the exported model in the loop, on the last
segment (the held-out end of the day; with a single segment, its last 30%).
"""

from __future__ import annotations

import logging
import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashmm_engine.backtest.build import BacktestOptions
from flashmm_engine.bench.tile import Tiler, segments
from flashmm_engine.config.models import ModelSettings
from flashmm_engine.features.batch import FeatureRun
from flashmm_engine.features.event_columns import from_tables
from flashmm_engine.features.labels import LabelSpec
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.capture import read_capture
from flashmm_engine.marketdata.columns import ColumnSink
from flashmm_engine.marketdata.normalize import NormalizedTables, gc_paused, normalize
from flashmm_engine.marketdata.records import DepthSnapshot
from flashmm_engine.marketdata.source import CaptureInfo, CaptureSource
from flashmm_engine.types import NS_PER_MS

log = logging.getLogger(__name__)

STAGES = ("build", "load", "features", "labels", "training", "export", "backtest")

KIB_PER_MIB = 1024
VALIDATION_FROM_FRACTION = 0.7
"""With one segment, the validation backtest trades its last 30% (the part training held out)."""


@dataclass
class Stage:
    seconds: float = 0.0
    events: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        rate = round(self.events / self.seconds) if self.seconds > 0 and self.events else None
        return {"seconds": round(self.seconds, 3), "events": self.events, "events_per_s": rate, **self.extra}


@dataclass
class PipelineConfig:
    capture: Path
    hours: float
    work_dir: Path
    model_kind: str
    registry_url: str
    models: ModelSettings
    market: str | None = None


def run_pipeline(config: PipelineConfig) -> dict[str, Any]:
    from flashmm_engine.venues.captures import open_capture

    started = time.perf_counter()
    stages = {
        name: Stage() for name in ("build", "load", "features", "labels", "training", "export", "backtest")
    }
    source, info = open_capture(config.capture, config.market)
    paths = _build(config, source, info, stages["build"])
    frame, last_tables = _load_and_features(info, paths, stages["load"], stages["features"])
    result = _train(config, info, frame, [str(p) for p in paths], stages)
    model_dir = Path(result["model_dir"])
    _validate(last_tables, model_dir, len(paths) == 1, stages["backtest"])
    return {
        "hours": config.hours,
        "capture": str(config.capture),
        **info.describe(),
        "segments": len(paths),
        "market_seconds": round((frame.last_event_ts - int(frame.ts[0])) / 1e9, 1) if len(frame.ts) else 0,
        "stages": {name: stage.report() for name, stage in stages.items()},
        "total_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "model_dir": str(model_dir),
    }


def _build(config: PipelineConfig, source: CaptureSource, info: CaptureInfo, stage: Stage) -> list[Path]:
    from flashmm_engine.venues.binance.source import depth_stream

    started = time.perf_counter()
    tables, _ = normalize(source, info)
    tiler = Tiler.of(read_capture(config.capture), tables, info.market, depth_stream(info) or "")
    config.work_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, copies in enumerate(segments(tiler, config.hours)):
        path = config.work_dir / f"tiled-{index:03d}.raw"
        with path.open("wb") as out:
            for k in copies:
                out.write(tiler.copy(k))
        paths.append(path)
        log.info("built segment %d (%d copies of %.0f s)", index, len(copies), tiler.copy_ns / 1e9)
    stage.seconds = time.perf_counter() - started
    stage.extra = {"copies": sum(len(c) for c in segments(tiler, config.hours)), "bytes": _size(paths)}
    return paths


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def _load_and_features(
    info: CaptureInfo, paths: list[Path], load: Stage, features: Stage
) -> tuple[Any, NormalizedTables]:
    from flashmm_engine.venues.binance.batch import BatchParser
    from flashmm_engine.venues.binance.markets import as_market
    from flashmm_engine.venues.binance.processor import FeedProcessor
    from flashmm_engine.venues.binance.source import depth_stream

    market, spec = as_market(info.market), info.spec.market_spec()
    book = OrderBook()
    processor = FeedProcessor(market, spec, info.symbol, ColumnSink(info.spec.market_id), book=book)
    parser = BatchParser(market, spec, info.symbol, depth_stream(info))
    run = FeatureRun(FeatureSpec(), spec.symbol)
    tables: NormalizedTables | None = None
    for index, path in enumerate(paths):
        started = time.perf_counter()
        sink = ColumnSink(info.spec.market_id)
        processor.sink = sink
        text = read_capture(path)
        if index == len(paths) - 1 and index > 0:
            _snapshot_of(book, processor.sync.last_update_id, int(text[:19]) - 1, sink)
        with gc_paused():
            processor.on_batch(parser.parse(text))
        del text
        tables = NormalizedTables(
            sink.book_delta(), sink.book_snapshot(), sink.trade(), sink.top_of_book(), spec, info.spec
        )
        rows = sum(
            len(t) for t in (tables.book_delta, tables.book_snapshot, tables.trade, tables.top_of_book)
        )
        load.seconds += time.perf_counter() - started
        load.events += rows
        started = time.perf_counter()
        columns = from_tables(tables)
        run.feed(columns)
        features.seconds += time.perf_counter() - started
        features.events += len(columns)
        log.info("segment %d/%d: %d events loaded and featured", index + 1, len(paths), rows)
    assert tables is not None
    load.extra = {
        "messages": processor.messages,
        "resyncs": processor.resyncs,
        "malformed": processor.malformed,
    }
    frame = run.frame()
    features.extra = {"samples": len(frame.ts)}
    return frame, tables


def _snapshot_of(book: OrderBook, last_update_id: int, ts_local: int, sink: ColumnSink) -> None:
    """The rebuilt book as a snapshot at the segment's start, so the segment replays on its own."""
    bids, asks = sorted(book.bids.items(), reverse=True), sorted(book.asks.items())
    sink.on_snapshot(ts_local, DepthSnapshot(ts_local, ts_local, last_update_id, bids, asks))


def _train(
    config: PipelineConfig, info: CaptureInfo, frame: Any, sources: list[str], stages: dict[str, Stage]
) -> dict[str, Any]:
    from flashmm_engine.models.dataset import build_dataset
    from flashmm_engine.models.pipeline import train_dataset
    from flashmm_engine.models.timing import PhaseTimer

    started = time.perf_counter()
    spec, label_spec = FeatureSpec(), LabelSpec(flat_band_ticks=config.models.flat_band_ticks)
    ds = build_dataset([frame], label_spec, 1, spec.tick_ns // (config.models.sample_ms * NS_PER_MS))
    stages["labels"].seconds = time.perf_counter() - started
    stages["labels"].events = len(frame.ts)
    stages["labels"].extra = {"labelled_samples": len(ds)}
    timer = PhaseTimer()
    name = f"bench-{info.symbol.lower()}-{info.market}-{config.model_kind}"
    result = train_dataset(
        ds, sources, info.market, config.model_kind, name, config.models,  # type: ignore[arg-type]
        config.registry_url, 0.7, timer,
    )  # fmt: skip
    stages["training"].seconds = timer.phases["selection+training"]
    stages["training"].events = len(ds)
    stages["training"].extra = {"model": config.model_kind}
    stages["export"].seconds = timer.phases["export"]
    return result


def _validate(tables: NormalizedTables, model_dir: Path, single: bool, stage: Stage) -> None:
    from flashmm_engine.backtest.run import backtest_tables

    opts = BacktestOptions(
        strategy="mm", model_dir=model_dir, from_fraction=VALIDATION_FROM_FRACTION if single else 0.0
    )
    started = time.perf_counter()
    result = backtest_tables(tables, opts)
    stage.seconds = time.perf_counter() - started
    stage.events = int(result["events"])
    keys = ("fills", "pnl", "decisions_with_model", "decisions_fallback")
    stage.extra = {key: result[key] for key in keys if key in result}
