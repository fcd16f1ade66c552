"""`flashmm soak` for half a minute with a fractional warm-up: one JSON line per sample with real process
figures (RSS, open fds, asyncio tasks, ledger rows growing as the engine trades), then the growth summary
fitted over the samples after the warm-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from flashmm_engine.engine.soak import SoakSample, growth

FLASHMM = Path(sys.executable).parent / "flashmm"
MARKETS = 2
TASKS_PER_MARKET = 4
"""events, market data, cycles, periodic reconcile: the engine's tracked tasks per market."""


def test_growth_is_fitted_over_the_samples_after_the_warm_up() -> None:
    def sample(minute: float, rss: float, fds: int, tasks: int) -> SoakSample:
        return SoakSample(minute, rss, fds, tasks, 0, 0, 0, 0, 0, 0)

    samples = [sample(0, 50, 5, 3), sample(1, 100, 20, 10), sample(2, 101, 20, 10), sample(3, 102, 20, 11)]
    out = growth(samples, warmup_minutes=1)
    assert out["samples_after_warmup"] == 3
    assert out["rss_pct_per_h"] == pytest.approx(60.0)  # 1 MB/min on 100 MB
    assert out["fds_per_h"] == 0.0
    assert out["tasks_per_h"] == pytest.approx(30.0)
    assert out["fds_range"] == [20, 20] and out["tasks_range"] == [10, 11]
    assert growth(samples[:2], warmup_minutes=1)["rss_pct_per_h"] is None


def test_soak_prints_real_samples_and_the_growth_per_hour(tmp_path: Path) -> None:
    args = ["--minutes", "0.5", "--markets", str(MARKETS), "--warmup-minutes", "0.1", "--interval-s", "5"]
    out = subprocess.run(
        [str(FLASHMM), "soak", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [orjson.loads(line) for line in out.stdout.splitlines()]
    samples, summary = lines[:-1], lines[-1]
    assert len(samples) == 6, samples
    assert all(set(s) == set(SoakSample.__slots__) for s in samples)
    minutes = [s["minute"] for s in samples]
    assert minutes == sorted(minutes) and minutes[-1] == pytest.approx(0.5, abs=0.05)
    for s in samples:
        assert 20 < s["rss_mb"] < 4000
        assert s["fds"] >= 3 + MARKETS  # stdio and one socket per venue at least
        assert s["tasks"] >= 1 + MARKETS * TASKS_PER_MARKET
        assert s["ledger_bytes"] > 0
    assert samples[-1]["cycles"] > samples[0]["cycles"] > 0
    assert samples[-1]["ledger_orders"] > samples[0]["ledger_orders"] > 0
    assert summary["markets"] == MARKETS and summary["task_failures"] == 0
    g = summary["growth_per_hour"]
    assert g["samples_after_warmup"] == sum(m >= 0.1 for m in minutes)
    assert all(isinstance(g[k], float) for k in ("rss_pct_per_h", "fds_per_h", "tasks_per_h"))
    assert g["fds_range"][0] <= g["fds_range"][1]
