"""The normalizer on real capture slices: contract columns, book rebuild from the tables, bad lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pandas as pd
import pytest

from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.normalize import NormalizedTables, iter_events, write_parquet
from flashmm_engine.marketdata.spec import read_spec
from flashmm_engine.types import BookDelta, BookSnapshot, Side, TopOfBook, Trade
from flashmm_engine.venues.binance.markets import BinanceMarket
from flashmm_engine.venues.captures import detect_market, load_capture, normalize_capture

MARKETS: list[tuple[BinanceMarket, str]] = [("spot", "spot_ethusdt_slice"), ("usdm", "usdm_ethusdt_slice")]


def capture(fixtures_dir: Path, name: str) -> Path:
    return fixtures_dir / "binance" / f"{name}.raw.gz"


@pytest.fixture(scope="module", params=MARKETS, ids=[m for m, _ in MARKETS])
def loaded(
    request: pytest.FixtureRequest, fixtures_dir: Path
) -> tuple[BinanceMarket, Path, NormalizedTables]:
    market, name = request.param
    path = capture(fixtures_dir, name)
    return market, path, load_capture(path, market)


def test_columns_and_types(loaded: tuple[BinanceMarket, Path, NormalizedTables]) -> None:
    market, _, tables = loaded
    assert list(tables.book_delta.columns) == [
        "ts_exchange",
        "ts_local",
        "market",
        "side",
        "price",
        "size",
        "seq",
    ]
    assert list(tables.book_snapshot.columns) == [
        "ts_exchange", "ts_local", "market", "seq", "side", "price", "size",
    ]  # fmt: skip
    assert list(tables.trade.columns) == [
        "ts_exchange", "ts_local", "market", "price", "size", "aggressor_side", "trade_id",
    ]  # fmt: skip
    assert list(tables.top_of_book.columns) == [
        "ts_exchange", "ts_local", "market", "bid_price", "bid_size", "ask_price", "ask_size", "seq",
    ]  # fmt: skip
    assert tables.book_delta["side"].dtype == "int8"
    assert tables.trade["aggressor_side"].dtype == "int8"
    for name in ("book_delta", "book_snapshot", "trade", "top_of_book"):
        frame: pd.DataFrame = getattr(tables, name)
        assert len(frame) > 0, name
        assert set(frame["market"]) == {f"binance-{market}:ETHUSDT"}
        assert frame["ts_local"].is_monotonic_increasing, name
        assert frame["ts_exchange"].dtype == "int64"
    assert (tables.book_delta["size"] >= 0).all()
    assert set(tables.book_delta["side"]) == {1, -1}


def test_snapshot_then_deltas_after_it(loaded: tuple[BinanceMarket, Path, NormalizedTables]) -> None:
    _, _, tables = loaded
    snapshot = tables.book_snapshot
    assert snapshot["seq"].nunique() == 1
    assert len(snapshot) == 2000  # the REST snapshot had 1000 levels a side
    assert (tables.book_delta["seq"] >= snapshot["seq"].iloc[0]).all()
    assert tables.book_delta["ts_local"].min() >= snapshot["ts_local"].iloc[0]


def test_trades_match_raw_messages(loaded: tuple[BinanceMarket, Path, NormalizedTables]) -> None:
    _, path, tables = loaded
    lines = gzip.decompress(path.read_bytes()).splitlines()
    raw_trades = [orjson.loads(line.split(b" ", 1)[1])["data"] for line in lines if b"@trade" in line]
    assert len(tables.trade) == len(raw_trades)
    spec = tables.spec
    first, row = raw_trades[0], tables.trade.iloc[0]
    assert row["trade_id"] == first["t"]
    assert row["price"] == spec.price_to_ticks(first["p"])
    assert row["size"] == spec.size_to_lots(first["q"])
    expected_sides = [-1 if t["m"] else 1 for t in raw_trades]
    assert tables.trade["aggressor_side"].tolist() == expected_sides


def test_events_rebuild_book_matching_top_of_book(
    loaded: tuple[BinanceMarket, Path, NormalizedTables],
) -> None:
    """A consumer replaying snapshot + deltas from the tables sees the exchange's top at equal update ids."""
    _, _, tables = loaded
    book = OrderBook()
    tops_by_seq: dict[int, tuple[int, int, int, int]] = {}
    last_seq = -1
    kinds: set[type] = set()
    for event in iter_events(tables):
        kinds.add(type(event))
        if isinstance(event, BookSnapshot):
            book.load(event.bids, event.asks)
        elif isinstance(event, BookDelta):
            if last_seq not in (-1, event.seq):
                tops_by_seq[last_seq] = _top(book)
            book.set_level(int(event.side), event.price, event.size)
            last_seq = event.seq
    tops_by_seq[last_seq] = _top(book)
    assert kinds == {BookSnapshot, BookDelta, Trade, TopOfBook}
    tickers = tables.top_of_book[tables.top_of_book["seq"].isin(tops_by_seq)]
    assert len(tickers) >= 30
    columns = ("seq", "bid_price", "bid_size", "ask_price", "ask_size")
    for seq, *top in zip(*(tickers[c].tolist() for c in columns), strict=True):
        assert tops_by_seq[seq] == tuple(top)


def _top(book: OrderBook) -> tuple[int, int, int, int]:
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None and ask is not None
    return bid[0], bid[1], ask[0], ask[1]


def test_iter_events_yields_sides_as_enum(loaded: tuple[BinanceMarket, Path, NormalizedTables]) -> None:
    _, _, tables = loaded
    trade = next(e for e in iter_events(tables) if isinstance(e, Trade))
    assert isinstance(trade.aggressor_side, Side)


def test_write_parquet_round_trip(
    loaded: tuple[BinanceMarket, Path, NormalizedTables], tmp_path: Path
) -> None:
    _, _, tables = loaded
    paths = write_parquet(tables, tmp_path / "out")
    assert set(paths) == {"book_delta", "book_snapshot", "trade", "top_of_book", "spec"}
    assert read_spec(paths.pop("spec")) == tables.instrument
    for name, path in paths.items():
        back = pd.read_parquet(path)
        expected: pd.DataFrame = getattr(tables, name)
        pd.testing.assert_frame_equal(back, expected, check_dtype=False)
        numeric = [c for c in expected.columns if c != "market"]
        assert back[numeric].dtypes.equals(expected[numeric].dtypes)


def test_detect_market(fixtures_dir: Path) -> None:
    for market, name in MARKETS:
        assert detect_market(capture(fixtures_dir, name)) == market


def test_bad_lines_are_counted_and_skipped(fixtures_dir: Path, tmp_path: Path) -> None:
    source = capture(fixtures_dir, "spot_ethusdt_slice")
    lines = gzip.decompress(source.read_bytes()).splitlines()
    garbage = [
        b"not-a-timestamp {}",
        b"1723161254024619568 {not json",
        b'1723161254024619568 {"stream":"ethusdt@trade","data":{"s":"ETHUSDT","p":"-1.00","q":"1","m":true}}',
        b"1723161254024619568 [1, 2, 3]",
    ]
    mixed = lines[:100] + garbage + lines[100:]
    dirty = tmp_path / "dirty.raw"
    dirty.write_bytes(b"\n".join(mixed) + b"\n")
    clean_tables, clean_stats = normalize_capture(source, "spot")
    dirty_tables, dirty_stats = normalize_capture(dirty, "spot")
    assert dirty_stats.malformed == len(garbage)
    assert dirty_stats.messages == clean_stats.messages + len(garbage)
    assert dirty_stats.resyncs == clean_stats.resyncs == 0
    for name in ("book_delta", "book_snapshot", "trade", "top_of_book"):
        pd.testing.assert_frame_equal(getattr(dirty_tables, name), getattr(clean_tables, name))


def test_a_malformed_diff_forces_a_resync(fixtures_dir: Path, tmp_path: Path) -> None:
    """The book missed an update it cannot read: it is dropped, never patched or rounded."""
    source = capture(fixtures_dir, "spot_ethusdt_slice")
    lines = gzip.decompress(source.read_bytes()).splitlines()
    at = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line) + 50
    bad = b'1723161254024619568 {"stream":"ethusdt@depth@100ms","data":{"s":"ETHUSDT","U":2,"u":1,"b":[]}}'
    dirty = tmp_path / "dirty.raw"
    dirty.write_bytes(b"\n".join([*lines[:at], bad, *lines[at:]]) + b"\n")
    tables, stats = normalize_capture(dirty, "spot")
    assert (stats.malformed, stats.resyncs) == (1, 1)
    clean, _ = normalize_capture(source, "spot")
    assert len(tables.book_delta) < len(clean.book_delta)  # no diff lands after the break: no new snapshot
