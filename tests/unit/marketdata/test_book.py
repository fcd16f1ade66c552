"""Order book: unit cases and hypothesis properties against a plain dict model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashmm_engine.marketdata.book import ASK, BID, BookError, OrderBook


def test_snapshot_then_diffs_best_and_depth() -> None:
    book = OrderBook()
    book.load([(100, 5), (99, 3), (98, 0)], [(101, 2), (103, 7)])
    assert book.best_bid() == (100, 5)
    assert book.best_ask() == (101, 2)
    book.apply([100, 97], [0, 4], [102], [1])
    assert book.best_bid() == (99, 3)
    assert book.best_ask() == (101, 2)
    assert book.depth(BID, 2) == [(99, 3), (97, 4)]
    assert book.depth(ASK, 5) == [(101, 2), (102, 1), (103, 7)]
    assert 98 not in book.bids  # zero-size snapshot levels are not levels


def test_negative_size_is_rejected_without_changing_the_book() -> None:
    book = OrderBook()
    book.load([(100, 5)], [(101, 2)])
    with pytest.raises(BookError, match="negative size"):
        book.apply([99, 100], [1, -1], [], [])
    assert book.bids == {100: 5}  # the valid first level of the bad diff was not applied either
    with pytest.raises(BookError):
        book.load([(100, -1)], [])
    with pytest.raises(BookError, match="non-positive price"):
        book.set_level(ASK, 0, 1)
    assert book.best_bid() == (100, 5)


def test_crossed_book_is_detected() -> None:
    book = OrderBook()
    book.load([(100, 5)], [(101, 2)])
    assert not book.is_crossed()
    book.set_level(BID, 101, 1)
    assert book.is_crossed()
    book.set_level(BID, 101, 0)
    assert not book.is_crossed()


def test_empty_book() -> None:
    book = OrderBook()
    assert book.best_bid() is None and book.best_ask() is None
    assert book.depth(BID, 3) == []
    assert not book.is_crossed()


prices = st.one_of(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=5000))
sizes = st.integers(min_value=0, max_value=5)
levels = st.lists(st.tuples(prices, sizes), max_size=15)
diff = st.tuples(levels, levels)


@settings(max_examples=120, deadline=None)
@given(snapshot=st.tuples(levels, levels), diffs=st.lists(diff, max_size=30))
def test_book_matches_dict_model(
    snapshot: tuple[list[tuple[int, int]], list[tuple[int, int]]],
    diffs: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]],
) -> None:
    book = OrderBook()
    model = {BID: {p: s for p, s in snapshot[0] if s}, ASK: {p: s for p, s in snapshot[1] if s}}
    book.load(*snapshot)
    _assert_same(book, model)
    for bids, asks in diffs:
        book.apply([p for p, _ in bids], [s for _, s in bids], [p for p, _ in asks], [s for _, s in asks])
        for side, changes in ((BID, bids), (ASK, asks)):
            for price, size in changes:
                if size:
                    model[side][price] = size
                else:
                    model[side].pop(price, None)
        _assert_same(book, model)


@settings(max_examples=60, deadline=None)
@given(start=levels, bad=st.lists(st.tuples(prices, st.integers(-5, 5)), min_size=1, max_size=10))
def test_rejected_diff_leaves_book_untouched(
    start: list[tuple[int, int]], bad: list[tuple[int, int]]
) -> None:
    book = OrderBook()
    book.load(start, [])
    before = dict(book.bids)
    try:
        book.apply([p for p, _ in bad], [s for _, s in bad], [], [])
    except BookError:
        assert book.bids == before
        assert any(s < 0 for _, s in bad)
    else:
        assert all(s >= 0 for _, s in bad)
    assert all(size > 0 for size in book.bids.values())


def _assert_same(book: OrderBook, model: dict[int, dict[int, int]]) -> None:
    assert book.bids == model[BID]  # no stale levels, no zero or negative sizes
    assert book.asks == model[ASK]
    best_bid = max(model[BID]) if model[BID] else None
    best_ask = min(model[ASK]) if model[ASK] else None
    assert book.best_bid() == (None if best_bid is None else (best_bid, model[BID][best_bid]))
    assert book.best_ask() == (None if best_ask is None else (best_ask, model[ASK][best_ask]))
    assert book.depth(BID, 3) == sorted(model[BID].items(), reverse=True)[:3]


@settings(max_examples=12, deadline=None)
@given(
    spread=st.integers(min_value=1, max_value=200_000),
    removals=st.lists(st.integers(min_value=0, max_value=4_999), max_size=80),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_a_deep_book_grows_and_finds_far_bests(spread: int, removals: list[int], seed: int) -> None:
    """More levels than the first tables hold, spread wide, and bests removed far from the next level:
    the tables grow, the best is found past the tick-by-tick scan, and a batch's level arrays (read from an
    offset) give the same book as lists."""
    rng = np.random.default_rng(seed)
    bid_prices = rng.choice(np.arange(1, spread + 5_001), size=5_000, replace=False)
    model = {BID: {int(p): int(p) % 7 + 1 for p in bid_prices}, ASK: {}}
    book, from_arrays = OrderBook(), OrderBook()
    book.load(list(model[BID].items()), [])
    from_arrays.load(list(model[BID].items()), [])
    _assert_same(book, model)
    ranked = sorted(model[BID], reverse=True)
    for index in removals:
        price = ranked[index]
        book.apply([price], [0], [price + spread], [3])
        pool = np.array([-9, price, price + spread, -9], dtype=np.int64), np.array([-9, 0, 3, -9])
        from_arrays.apply_levels(pool[0], pool[1].astype(np.int64), 1, 1, 1)
        model[BID].pop(price, None)
        model[ASK][price + spread] = 3
        _assert_same(book, model)
    assert from_arrays.bids == book.bids and from_arrays.asks == book.asks
    assert from_arrays.best_bid() == book.best_bid() and from_arrays.is_crossed() == book.is_crossed()
