"""Building market views for quoter and core tests."""

from __future__ import annotations

from flashmm_engine.types import BookTop, FeedView, MarketView, Prediction, RiskState, TradingState

MARKET = "M"


def feed(
    bid: int = 1000,
    ask: int = 1002,
    ts: int = 0,
    prediction: Prediction | None = None,
    warm: bool = True,
    book_ts: int | None = None,
    reference_fresh: bool = True,
) -> FeedView:
    return FeedView(
        MARKET,
        ts,
        BookTop(bid, 5, ask, 5),
        book_ts_ns=ts if book_ts is None else book_ts,
        warm=warm,
        prediction=prediction,
        reference_fresh=reference_fresh,
    )


def view(position: int = 0, **kw: object) -> MarketView:
    f = feed(**kw)  # type: ignore[arg-type]
    return MarketView(f, f.ts_ns, position, (), RiskState(TradingState.ACTIVE, "test", 0))


def prediction(
    down: float = 0.2, flat: float = 0.6, up: float = 0.2, expected_bps: float = 0.0, ts: int = 0
) -> Prediction:
    return Prediction("v1", ts, ("200ms",), ((down, flat, up),), expected_bps)
