"""What one market's cycle decides on: the `FeedView` built from its FeatureState (top, depth, features,
warm flag, volatility) and the model's prediction, read between two events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from flashmm_engine.types import BookTop, FeedView, Prediction

if TYPE_CHECKING:
    from flashmm_engine.engine.market_task import MarketRunner

BOOK_LEVELS = 10


def feed_view(runner: MarketRunner, now_ns: int) -> FeedView:
    fs = runner.features
    top = book_top(runner)
    features = prediction = None
    warm = False
    volatility = None
    reference_fresh = runner.reference is None or runner.reference.fresh(now_ns)
    if not reference_fresh:
        runner.stats.reference_stale_cycles += 1
    if top is not None:
        sample_ts = max(runner.last_event_ts, fs.last_sample_ts)
        vector = fs.sample(sample_ts)
        warm = fs.is_warm(sample_ts)
        features = tuple(float(v) for v in vector)
        volatility = fs.ewm[0].vol_per_sqrt_s(sample_ts) if fs.ewm else None
        if runner.inference is not None:
            prediction = _predict(runner, vector, top.mid_x2, now_ns)
    return FeedView(
        runner.market,
        now_ns,
        top,
        tuple(fs.depth.depth(1, BOOK_LEVELS)),
        tuple(fs.depth.depth(-1, BOOK_LEVELS)),
        runner.last_book_rx_ns,
        fs.book_synced,
        features,
        warm,
        prediction,
        volatility,
        reference_fresh,
    )


def _predict(runner: MarketRunner, vector: NDArray[Any], mid_x2: int, now_ns: int) -> Prediction | None:
    assert runner.inference is not None
    try:
        prediction = runner.inference.predict(vector, mid_x2, now_ns)
    except (RuntimeError, ValueError) as exc:
        runner.stats.model_errors += 1
        runner.features.bad_input.record("model_error", f"{type(exc).__name__}: {exc}")
        return None
    if prediction is not None:
        runner.stats.inference_ns.add(prediction.inference_ns)
        if runner.observe_inference_ns is not None:
            runner.observe_inference_ns(prediction.inference_ns)
    return prediction


def book_top(runner: MarketRunner) -> BookTop | None:
    fs = runner.features
    if fs.tob is not None:
        bid, bid_size, ask, ask_size = fs.tob
    else:
        best_bid, best_ask = fs.depth.best_bid(), fs.depth.best_ask()
        if best_bid is None or best_ask is None:
            return None
        (bid, bid_size), (ask, ask_size) = best_bid, best_ask
    if bid <= 0 or ask <= bid:
        return None
    return BookTop(bid, bid_size, ask, ask_size)
