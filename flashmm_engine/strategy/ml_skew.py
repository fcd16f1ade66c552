"""The model's adjustment of the base quotes, and the checks that decide whether the model is used at all.

With a usable prediction: the expected return shifts the reservation price (bounded, in ticks); the
direction probabilities make the sides asymmetric (the side the model expects the price to move towards is
tightened, the other widened); uncertainty (the normalized entropy of the probabilities) widens the spread.
A prediction that is missing, cold, stale, over its inference budget or not finite is not used: the quoter
falls back to the base quotes and reports the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flashmm_engine.types import NS_PER_MS, NS_PER_S, Prediction

LN3 = math.log(3)


@dataclass(frozen=True, slots=True)
class SkewParams:
    max_shift_ticks: float = 3.0
    return_gain: float = 1.0
    """Fraction of the expected return (converted to ticks) the reservation price moves by."""
    asymmetry: float = 0.5
    """0 = symmetric sides; at 0.5 a certain 'up' halves the bid depth and widens the ask by half."""
    uncertainty_widen: float = 0.5
    """Spread multiplier at maximum uncertainty is 1 + this."""
    max_age_ns: int = 1 * NS_PER_S
    inference_budget_ns: int | None = 5 * NS_PER_MS
    horizons: tuple[str, ...] = ()
    """Horizons whose probabilities are averaged (empty = all)."""

    def __post_init__(self) -> None:
        if not 0 <= self.asymmetry < 1:
            raise ValueError(f"asymmetry {self.asymmetry}: expected 0 <= a < 1")
        if self.max_shift_ticks < 0 or self.uncertainty_widen < 0 or self.max_age_ns <= 0:
            raise ValueError("max shift and uncertainty widening must be >= 0 and the max age > 0")


@dataclass(frozen=True, slots=True)
class Skew:
    shift_ticks: float
    bid_factor: float
    ask_factor: float
    direction: float
    """P(up) - P(down), averaged over the chosen horizons."""
    uncertainty: float


def fallback_reason(
    prediction: Prediction | None, warm: bool, now_ns: int, p: SkewParams, reference_fresh: bool = True
) -> str | None:
    """Why the prediction must not be used this cycle, or None when it may."""
    if not reference_fresh:
        return "reference_stale"
    if not warm:
        return "features_cold"
    if prediction is None:
        return "model_missing"
    values = [v for row in prediction.probs for v in row]
    if not values or not all(map(math.isfinite, [*values, prediction.expected_return_bps])):
        return "model_nan"
    if any(v < 0 for v in values) or any(abs(sum(row) - 1) > 1e-3 for row in prediction.probs):
        return "model_not_distribution"
    if now_ns - prediction.ts_ns > p.max_age_ns:
        return "model_stale"
    if p.inference_budget_ns is not None and prediction.inference_ns > p.inference_budget_ns:
        return "model_over_budget"
    if p.horizons and not set(p.horizons) & set(prediction.horizons):
        return "model_horizon_missing"
    return None


def skew(prediction: Prediction, mid_ticks: float, p: SkewParams) -> Skew:
    """The adjustment for a prediction `fallback_reason` accepted."""
    rows = [
        row
        for h, row in zip(prediction.horizons, prediction.probs, strict=True)
        if not p.horizons or h in p.horizons
    ]
    down = sum(r[0] for r in rows) / len(rows)
    flat = sum(r[1] for r in rows) / len(rows)
    up = sum(r[2] for r in rows) / len(rows)
    direction = up - down
    entropy = -sum(x * math.log(x) for x in (down, flat, up) if x > 0)
    uncertainty = min(max(entropy / LN3, 0.0), 1.0)
    shift = p.return_gain * prediction.expected_return_bps * mid_ticks / 10_000
    shift = min(max(shift, -p.max_shift_ticks), p.max_shift_ticks)
    widen = 1 + p.uncertainty_widen * uncertainty
    return Skew(
        shift_ticks=shift,
        bid_factor=(1 - p.asymmetry * direction) * widen,
        ask_factor=(1 + p.asymmetry * direction) * widen,
        direction=direction,
        uncertainty=uncertainty,
    )
