"""A `FeedSink` that turns the feed into core `MarketEvent` objects for the engine (or any consumer)."""

from __future__ import annotations

from collections.abc import Callable

from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, TradeMessage
from flashmm_engine.types import BookDelta, BookSnapshot, MarketEvent, Side, TopOfBook, Trade


class MarketEventSink:
    """Emits BookSnapshot / BookDelta (one per level, bids first) / TopOfBook / Trade, in feed order.

    Snapshots and deltas are emitted exactly when they land in the connector's book, so a consumer that
    clears its book at every snapshot and applies the deltas holds the same book.
    """

    def __init__(self, market: str, emit: Callable[[MarketEvent], None]) -> None:
        self.market = market
        self.emit = emit

    def on_snapshot(self, ts_local: int, snapshot: DepthSnapshot) -> None:
        self.emit(
            BookSnapshot(
                ts_exchange=snapshot.ts_exchange,
                ts_local=ts_local,
                market=self.market,
                seq=snapshot.last_update_id,
                bids=tuple(sorted(((p, s) for p, s in snapshot.bids if s), reverse=True)),
                asks=tuple(sorted((p, s) for p, s in snapshot.asks if s)),
            )
        )

    def on_diff(self, ts_local: int, diff: DepthDiff) -> None:
        emit, market, ts_exchange, seq = self.emit, self.market, diff.ts_exchange, diff.final_id
        for side, prices, sizes in (
            (Side.BUY, diff.bid_prices, diff.bid_sizes),
            (Side.SELL, diff.ask_prices, diff.ask_sizes),
        ):
            for price, size in zip(prices, sizes, strict=True):
                emit(BookDelta(ts_exchange, ts_local, market, side, price, size, seq))

    def on_book_ticker(self, ticker: BookTicker) -> None:
        self.emit(
            TopOfBook(
                ticker.ts_exchange,
                ticker.ts_local,
                self.market,
                ticker.bid_price,
                ticker.bid_size,
                ticker.ask_price,
                ticker.ask_size,
                ticker.update_id,
            )
        )

    def on_trade(self, trade: TradeMessage) -> None:
        aggressor = Side.SELL if trade.buyer_is_maker else Side.BUY  # m=true: the buyer rested, a seller took
        self.emit(
            Trade(
                trade.ts_exchange,
                trade.ts_local,
                self.market,
                trade.price,
                trade.size,
                aggressor,
                trade.trade_id,
            )
        )
