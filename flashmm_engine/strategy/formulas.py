"""Avellaneda-Stoikov and GLFT optimal quotes, in ticks.

Units: prices and depths in ticks, sigma in ticks per sqrt(second), the intensity A in fills per second
and k per tick, the inventory q in order-size units. Both return (reservation offset from the mid,
bid depth, ask depth): the bid is quoted at mid + offset - bid depth, the ask at mid + offset + ask depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BaseQuote:
    reservation_offset: float
    bid_depth: float
    ask_depth: float


def avellaneda_stoikov(q: float, gamma: float, sigma: float, k: float, horizon_s: float) -> BaseQuote:
    """Avellaneda & Stoikov (2008) with a constant horizon T - t = `horizon_s`:
    r = s - q gamma sigma^2 tau;  total spread = gamma sigma^2 tau + (2 / gamma) ln(1 + gamma / k).
    """
    _check_positive(gamma=gamma, k=k, horizon_s=horizon_s)
    inventory_risk = gamma * sigma * sigma * horizon_s
    half = inventory_risk / 2 + math.log1p(gamma / k) / gamma
    return BaseQuote(-q * inventory_risk, half, half)


def glft(q: float, gamma: float, sigma: float, a: float, k: float, xi: float | None = None) -> BaseQuote:
    """Guéant, Lehalle & Fernandez-Tapia (2013), closed-form approximation (order size delta = 1 unit):
    c1 = ln(1 + xi / k) / xi;  c2 = sqrt(gamma / (2 A k) * (1 + xi / k)^(k / xi + 1));
    half = c1 + sigma c2 / 2;  skew = sigma c2;  bid depth = half + skew q, ask depth = half - skew q.
    `xi` defaults to gamma (the model's own choice)."""
    xi = gamma if xi is None else xi
    _check_positive(gamma=gamma, a=a, k=k, xi=xi)
    c1 = math.log1p(xi / k) / xi
    c2 = math.sqrt(gamma / (2 * a * k) * (1 + xi / k) ** (k / xi + 1))
    half = c1 + sigma * c2 / 2
    skew = sigma * c2
    return BaseQuote(-skew * q, half, half)


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{name} {value}: expected a positive finite number")
