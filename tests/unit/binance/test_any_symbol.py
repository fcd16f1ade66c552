"""Every capture reader works on any symbol of any Binance market without flags, and says what it read."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

from flashmm_engine.cli import main
from flashmm_engine.marketdata.normalize import normalize
from flashmm_engine.venues.binance.verify import verify_capture
from flashmm_engine.venues.captures import open_capture

# (file, market, symbol, tick, lot): the ETH slices are real; tests/fixtures/binance/derive.py made the others
CAPTURES = [
    ("spot_ethusdt_slice", "spot", "ETHUSDT", "0.01", "0.0001"),
    ("spot_btcusdt_slice", "spot", "BTCUSDT", "0.1", "0.00001"),
    ("usdm_ethusdt_slice", "usdm", "ETHUSDT", "0.01", "0.001"),
    ("usdm_btcusdt_slice", "usdm", "BTCUSDT", "0.1", "0.001"),
    ("coinm_btcusd_perp_slice", "coinm", "BTCUSD_PERP", "0.1", "1"),
    ("coinm_ethusd_perp_slice", "coinm", "ETHUSD_PERP", "0.01", "1"),
]
IDS = [c[0] for c in CAPTURES]


def path_of(fixtures_dir: Path, name: str) -> Path:
    return fixtures_dir / "binance" / f"{name}.raw.gz"


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`flashmm ARGS` through the real entry point: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["flashmm", *args])
    with pytest.raises(SystemExit) as ended:
        main()
    out, err = capsys.readouterr()
    return ended.value.code, out, err


def check_described(report: dict[str, Any], market: str, symbol: str, tick: str, lot: str) -> None:
    assert (report["venue"], report["market"], report["symbol"]) == ("binance", market, symbol)
    spec = report["spec"]
    assert (spec["tick_size"], spec["lot_size"], spec["source"]) == (tick, lot, "inferred")
    assert spec["market_id"] == f"binance-{market}:{symbol}"


@pytest.mark.parametrize(("name", "market", "symbol", "tick", "lot"), CAPTURES, ids=IDS)
def test_verify_book_detects_and_matches_every_ticker(
    fixtures_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    market: str,
    symbol: str,
    tick: str,
    lot: str,
) -> None:
    code, out, err = run_cli(["replay", "verify-book", str(path_of(fixtures_dir, name))], monkeypatch, capsys)
    assert code == 0, err
    report = orjson.loads(out)
    check_described(report, market, symbol, tick, lot)
    assert report["match_rate"] == 1.0 and report["book_ticker_checked"] >= 30
    assert report["malformed"] == 0 and report["resyncs"] == 0


@pytest.mark.parametrize(("name", "market", "symbol", "tick", "lot"), CAPTURES[1::2], ids=IDS[1::2])
def test_bench_feed_and_backtest_on_other_symbols(
    fixtures_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    market: str,
    symbol: str,
    tick: str,
    lot: str,
) -> None:
    path = str(path_of(fixtures_dir, name))
    code, out, err = run_cli(["bench", "feed", path, "--repeat", "1"], monkeypatch, capsys)
    assert code == 0, err
    bench = orjson.loads(out)
    check_described(bench, market, symbol, tick, lot)
    assert bench["messages"] == 5000 if market != "spot" else bench["messages"] == 8000
    code, out, err = run_cli(["backtest", path], monkeypatch, capsys)
    assert code == 0, err
    backtest = orjson.loads(out)
    check_described(backtest, market, symbol, tick, lot)
    assert backtest["events"] > 1000


@pytest.mark.parametrize(("name", "market", "symbol", "tick", "lot"), CAPTURES, ids=IDS)
def test_batch_path_equals_per_message_path(
    fixtures_dir: Path, name: str, market: str, symbol: str, tick: str, lot: str
) -> None:
    source, info = open_capture(path_of(fixtures_dir, name))
    assert (info.spec.tick_size, info.spec.lot_size) == (Decimal(tick), Decimal(lot))
    batch, batch_stats = normalize(source, info, batch=True)
    live, live_stats = normalize(source, info, batch=False)
    assert batch_stats == live_stats
    for table in ("book_delta", "book_snapshot", "trade", "top_of_book"):
        pd.testing.assert_frame_equal(getattr(batch, table), getattr(live, table))
    assert len(batch.trade) > 100 and set(batch.trade["market"]) == {info.spec.market_id}
    assert verify_capture(source, info, batch=True) == verify_capture(source, info, batch=False)


def test_coinm_sizes_are_whole_contracts(fixtures_dir: Path) -> None:
    _, info = open_capture(path_of(fixtures_dir, "coinm_btcusd_perp_slice"))
    assert (info.spec.base, info.spec.quote, info.spec.contract_size) == ("BTC", "USD", None)
    assert "btcusd_perp@depth@100ms" in info.streams and "btcusd_perp@aggTrade" in info.streams
