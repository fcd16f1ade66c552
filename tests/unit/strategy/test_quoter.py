"""The AS/GLFT quoter end to end: hand-computed quotes, rounding, spread bounds, levels, the ML skew and
its fallbacks."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from flashmm_engine.strategy.avellaneda import MarketMakerQuoter, QuoterParams
from flashmm_engine.strategy.ml_skew import SkewParams
from flashmm_engine.types import MarketView, Quote, Side
from tests.unit.strategy.views import MARKET, prediction, view

SIGMA3_BPS = 3 * 10_000 / 1001  # 3 ticks per sqrt(s) at mid 1001


def glft_quoter(**kw: object) -> MarketMakerQuoter:
    params = QuoterParams(model="glft", gamma=0.05, default_a_per_s=2, default_k_per_tick=0.5, **kw)  # type: ignore[arg-type]
    return MarketMakerQuoter(MARKET, params)


def with_vol(v: MarketView, bps: float = SIGMA3_BPS) -> MarketView:
    return replace(v, feed=replace(v.feed, volatility_bps=bps))


def test_glft_quotes_by_hand() -> None:
    # mid 1001, q=1: reservation 1001 - 0.8012186 = 1000.1987814, half 2.3068129
    # bid floor(997.8919685) = 997, ask ceil(1002.5055943) = 1003
    targets = glft_quoter().quote(with_vol(view(position=1)))
    assert targets.quotes == (Quote(Side.BUY, 997, 1), Quote(Side.SELL, 1003, 1))
    assert targets.reservation_ticks == pytest.approx(1000.1987814)
    assert not targets.model_used and targets.fallback is None  # no model configured: plain quotes


def test_avellaneda_stoikov_quotes_by_hand() -> None:
    # sigma 3, gamma 0.05, tau 1, k 0.5, q=-2: risk 0.05*9 = 0.45 -> reservation 1001 + 0.9 = 1001.9
    # half = 0.225 + ln(1.1)/0.05 = 2.1312036 -> bid floor(999.77) = 999, ask ceil(1004.03) = 1005
    quoter = MarketMakerQuoter(MARKET, QuoterParams(model="as", gamma=0.05, default_k_per_tick=0.5))
    targets = quoter.quote(with_vol(view(position=-2)))
    assert [(q.side, q.price) for q in targets.quotes] == [(Side.BUY, 999), (Side.SELL, 1005)]


def test_minimum_spread_levels_and_the_touch() -> None:
    wide = glft_quoter(min_spread_ticks=10).quote(with_vol(view(position=1)))
    assert [q.price for q in wide.quotes] == [995, 1005]  # 997/1003 widened by 4, split evenly
    levels = glft_quoter(levels=2, level_spacing_ticks=3).quote(with_vol(view(position=1)))
    assert [(q.side, q.price, q.level) for q in levels.quotes] == [
        (Side.BUY, 997, 0),
        (Side.SELL, 1003, 0),
        (Side.BUY, 994, 1),
        (Side.SELL, 1006, 1),
    ]
    long = glft_quoter().quote(with_vol(view(position=20)))  # reservation ~985: the ask would cross
    ask = next(q for q in long.quotes if q.side is Side.SELL)
    assert ask.price == 1001  # one tick above the best bid: post-only never crosses
    narrow = glft_quoter(max_spread_ticks=4).quote(with_vol(view(position=1)))
    prices = [q.price for q in narrow.quotes]
    assert prices[1] - prices[0] == 4


def ml_quoter(**skew: object) -> MarketMakerQuoter:
    return glft_quoter(skew=SkewParams(**skew))  # type: ignore[arg-type]


def test_the_model_shifts_and_skews_the_quotes() -> None:
    plain = glft_quoter().quote(with_vol(view()))
    bullish = prediction(down=0.05, flat=0.15, up=0.8, expected_bps=20.0)
    adjusted = ml_quoter().quote(with_vol(view(prediction=bullish)))
    assert adjusted.model_used and adjusted.fallback is None
    # 20 bps of 1001 = 2.002 ticks of shift, under the 3-tick bound
    assert adjusted.reservation_ticks == pytest.approx(plain.reservation_ticks + 2.002)  # type: ignore[operator]
    bid, ask = (q.price for q in adjusted.quotes)
    pbid, pask = (q.price for q in plain.quotes)
    assert bid > pbid and ask > pask  # both move up with the reservation price
    r = adjusted.reservation_ticks
    assert r is not None and r - bid < ask - r  # the bid is tightened, the ask widened
    capped = ml_quoter(max_shift_ticks=1.0).quote(with_vol(view(prediction=bullish)))
    assert capped.reservation_ticks == pytest.approx(plain.reservation_ticks + 1.0)  # type: ignore[operator]


def test_uncertainty_widens_the_spread() -> None:
    sure = ml_quoter().quote(with_vol(view(prediction=prediction(0.0, 1.0, 0.0))))
    unsure = ml_quoter().quote(with_vol(view(prediction=prediction(1 / 3, 1 / 3, 1 / 3))))
    assert unsure.half_spread_ticks == pytest.approx(sure.half_spread_ticks * 1.5)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"prediction": None}, "model_missing"),
        ({"warm": False, "prediction": prediction()}, "features_cold"),
        ({"reference_fresh": False, "warm": False, "prediction": prediction()}, "reference_stale"),
        ({"prediction": prediction(down=math.nan, flat=0.5, up=0.5)}, "model_nan"),
        ({"prediction": prediction(expected_bps=math.inf)}, "model_nan"),
        ({"prediction": prediction(down=0.5, flat=0.5, up=0.5)}, "model_not_distribution"),
        ({"prediction": prediction(ts=0), "ts": 2_000_000_000}, "model_stale"),
    ],
)
def test_fallback_to_plain_quotes_says_why(kw: dict[str, Any], reason: str) -> None:
    v = with_vol(view(**kw))
    targets = ml_quoter().quote(v)
    assert not targets.model_used and targets.fallback == reason
    assert targets.quotes == glft_quoter().quote(v).quotes


def test_an_over_budget_inference_is_not_used() -> None:
    slow = replace(prediction(up=0.5, flat=0.3, down=0.2), inference_ns=6_000_000)
    targets = ml_quoter(inference_budget_ns=5_000_000).quote(with_vol(view(prediction=slow)))
    assert targets.fallback == "model_over_budget"
    assert ml_quoter(inference_budget_ns=None).quote(with_vol(view(prediction=slow))).model_used
