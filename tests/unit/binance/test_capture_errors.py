"""Unusable captures stop every reader with exit code 2 and one line naming what was found and expected."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from tests.unit.binance.test_any_symbol import path_of, run_cli

READERS = [["replay", "verify-book"], ["bench", "feed", "--repeat", "1"], ["backtest"]]


def lines_of(fixtures_dir: Path, name: str) -> list[bytes]:
    return gzip.decompress(path_of(fixtures_dir, name).read_bytes()).splitlines()


def write(tmp_path: Path, lines: list[bytes], name: str = "capture.raw.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return path


def assert_refused(
    args: list[str], expected: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 2, (out, err)
    assert out == ""  # no success-shaped report
    message = err.strip().splitlines()[-1]
    assert message.startswith("flashmm: ") and "Traceback" not in err
    for text in expected:
        assert text in message, message
    return message


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r[0])
def test_another_symbol_than_asked_for(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], reader: list[str]
) -> None:
    path = str(path_of(fixtures_dir, "usdm_btcusdt_slice"))
    expected = ["capture holds btcusdt streams (1999 of its first 2000 lines); --symbol ETHUSDT was given"]
    assert_refused([*reader, path, "--symbol", "ETHUSDT"], expected, monkeypatch, capsys)


def test_another_market_than_asked_for(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(path_of(fixtures_dir, "spot_ethusdt_slice"))
    expected = ["capture holds Binance spot ethusdt streams; --market usdm was given"]
    assert_refused(["replay", "verify-book", "--market", "usdm", path], expected, monkeypatch, capsys)
    coinm = str(path_of(fixtures_dir, "coinm_ethusd_perp_slice"))
    expected = ["capture holds Binance coinm ethusd_perp streams; --market usdm was given"]
    assert_refused(["replay", "verify-book", "--market", "usdm", coinm], expected, monkeypatch, capsys)


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r[0])
def test_unknown_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], reader: list[str]
) -> None:
    cases = {
        "empty.raw.gz": (b"", "found an empty file"),
        "json.raw": (b'{"a": 1}\n{"b": 2}\n', "found 2 lines of plain text, starting b'{\"a\": 1}'"),
        "csv.raw.gz": (gzip.compress(b"ts,price\n1,2\n"), "found 2 lines of gzip text"),
        "junk.raw.gz": (b"\x1f\x8bnot really gzip at all, only its magic bytes", "corrupt gzip data"),
        "cut.raw.gz": (b"\x1f\x8b\x08\x00", "found a gzip stream truncated before its first complete line"),
    }
    for name, (data, found) in cases.items():
        (tmp_path / name).write_bytes(data)
        expected = [found]
        if "corrupt" not in found:
            expected.append("expected `<ts_local_ns> <raw message>` lines of a binance, sim feed")
        assert_refused([*reader, str(tmp_path / name)], expected, monkeypatch, capsys)


def test_truncated_gzip(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = path_of(fixtures_dir, "spot_ethusdt_slice").read_bytes()
    cut = tmp_path / "cut.raw.gz"
    cut.write_bytes(data[:20])
    expected = ["a gzip stream truncated before its first complete line"]
    assert_refused(["replay", "verify-book", str(cut)], expected, monkeypatch, capsys)
    cut.write_bytes(data[:1500])  # a few complete lines, but none of them the REST snapshot
    expected = ["no depth snapshot the diffs chain onto", "expected a REST depth snapshot line"]
    assert_refused(["replay", "verify-book", str(cut)], expected, monkeypatch, capsys)


def test_no_snapshot_even_when_line_two_is_a_diff(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [line for line in lines_of(fixtures_dir, "usdm_ethusdt_slice") if b"lastUpdateId" not in line]
    assert b"@depth@0ms" in lines[0]
    path = write(tmp_path, [b"garbage line", *lines])
    expected = ["no depth snapshot the diffs chain onto in 5000 lines", "binance usdm ETHUSDT"]
    message = assert_refused(["replay", "verify-book", str(path)], expected, monkeypatch, capsys)
    assert "pass --market" not in message
    expected = ["no REST depth snapshot line among 4999 lines"]
    assert_refused(["replay", "serve", str(path)], expected, monkeypatch, capsys)


def test_mostly_unusable_lines(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = lines_of(fixtures_dir, "usdm_ethusdt_slice")
    other = [line.replace(b"ethusdt@", b"ethusdt@kline_", 1) for line in lines if b"@" in line]
    path = write(tmp_path, lines + other + other)
    expected = ["9998 of 14998 lines are unusable (unknown_stream 9998)", "expected binance usdm ETHUSDT"]
    assert_refused(["replay", "verify-book", str(path)], expected, monkeypatch, capsys)


def test_off_step_values_stay_bad_input(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An exchangeInfo with a coarser lot than the data: sizes off it are refused, never rounded."""
    info = tmp_path / "info.json"
    info.write_bytes(orjson.dumps(exchange_info("BTCUSDT", "0.1", "0.1", base="BTC", quote="USDT")))
    path = str(path_of(fixtures_dir, "usdm_btcusdt_slice"))
    expected = ["lines are unusable (bad_field"]
    assert_refused(
        ["replay", "verify-book", path, "--exchange-info", str(info)], expected, monkeypatch, capsys
    )


def exchange_info(symbol: str, tick: str, step: str, **fields: object) -> dict[str, object]:
    entry = {
        "symbol": symbol,
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": tick, "minPrice": "0.1"},
            {"filterType": "LOT_SIZE", "stepSize": step, "minQty": step},
        ],
    }
    names = {"base": "baseAsset", "quote": "quoteAsset", "margin": "marginAsset", "contract": "contractSize"}
    entry |= {names.get(k, k): v for k, v in fields.items()}
    return {"timezone": "UTC", "symbols": [{"symbol": "OTHER", "filters": []}, entry]}
