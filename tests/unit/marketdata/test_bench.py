"""`flashmm bench feed` times the batch path (and, for comparison, the per-message path) on a real slice."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from flashmm_engine.cli import cli


@pytest.mark.parametrize("flags", [[], ["--per-message"]])
def test_bench_feed_reports_throughput(fixtures_dir: Path, flags: list[str]) -> None:
    path = fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz"
    result = CliRunner().invoke(cli, ["bench", "feed", str(path), "--repeat", "1", *flags])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert {"messages", "seconds", "msgs_per_s", "peak_rss_mb"} <= set(report)
    assert report["messages"] == 5000 and report["market"] == "usdm"
    assert report["msgs_per_s"] > 0 and report["path"] == ("per-message" if flags else "batch")
