"""Avellaneda-Stoikov and GLFT against values computed by hand (worked in the comments)."""

from __future__ import annotations

import pytest

from flashmm_engine.strategy.formulas import avellaneda_stoikov, glft


def test_avellaneda_stoikov_by_hand() -> None:
    # q=2, gamma=0.1, sigma=2 ticks/sqrt(s), k=1.5/tick, tau=1 s
    # inventory risk gamma sigma^2 tau = 0.1 * 4 * 1 = 0.4 -> reservation offset -q * 0.4 = -0.8
    # half spread = 0.4 / 2 + ln(1 + 0.1 / 1.5) / 0.1 = 0.2 + 10 * 0.0645385211 = 0.8453852114
    quote = avellaneda_stoikov(q=2, gamma=0.1, sigma=2, k=1.5, horizon_s=1)
    assert quote.reservation_offset == pytest.approx(-0.8)
    assert quote.bid_depth == pytest.approx(0.8453852114)
    assert quote.ask_depth == pytest.approx(0.8453852114)


def test_avellaneda_stoikov_flat_inventory_has_no_skew() -> None:
    quote = avellaneda_stoikov(q=0, gamma=0.5, sigma=1, k=2, horizon_s=2)
    # half = 0.5 * 1 * 2 / 2 + ln(1.25) / 0.5 = 0.5 + 0.4462871026 = 0.9462871026
    assert quote.reservation_offset == 0
    assert quote.bid_depth == pytest.approx(0.9462871026)


def test_glft_by_hand() -> None:
    # q=1, gamma=xi=0.05, sigma=3, A=2/s, k=0.5/tick
    # c1 = ln(1 + 0.05/0.5) / 0.05 = 0.0953101798 / 0.05 = 1.906203596
    # c2 = sqrt(0.05 / (2*2*0.5) * 1.1^(0.5/0.05 + 1)) = sqrt(0.025 * 1.1^11) = sqrt(0.025 * 2.853116706)
    #    = sqrt(0.07132791765) = 0.2670728696
    # half = c1 + 3 * c2 / 2 = 1.906203596 + 0.4006093043 = 2.306812900; skew = 3 * c2 = 0.8012186087
    quote = glft(q=1, gamma=0.05, sigma=3, a=2, k=0.5)
    assert quote.bid_depth == pytest.approx(2.306812900)
    assert quote.reservation_offset == pytest.approx(-0.8012186087)
    short = glft(q=-2, gamma=0.05, sigma=3, a=2, k=0.5)
    assert short.reservation_offset == pytest.approx(2 * 0.8012186087)


def test_glft_with_its_own_xi() -> None:
    # xi=0.1: c1 = ln(1.2) / 0.1 = 1.823215568; c2 = sqrt(0.05 / (2*1*0.5) * 1.2^6) = sqrt(0.05 * 2.985984)
    #    = sqrt(0.1492992) = 0.3863925466; sigma=1: half = 1.823215568 + 0.1931962733 = 2.016411841
    quote = glft(q=0, gamma=0.05, sigma=1, a=1, k=0.5, xi=0.1)
    assert quote.bid_depth == pytest.approx(2.016411841)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_parameters_are_refused_by_name(bad: float) -> None:
    with pytest.raises(ValueError, match="gamma"):
        avellaneda_stoikov(q=0, gamma=bad, sigma=1, k=1, horizon_s=1)
    with pytest.raises(ValueError, match="k "):
        glft(q=0, gamma=0.1, sigma=1, a=1, k=bad)
