"""No lookahead: features at t are unchanged by anything after t; labels at t read only the mid at t and
the data up to t + horizon."""

from __future__ import annotations

import dataclasses

import numpy as np

from flashmm_engine.features.batch import compute_features
from flashmm_engine.features.labels import UP, LabelSpec, compute_labels
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.types import BookDelta, MarketEvent, Side, TopOfBook, Trade

SHIFT_TICKS = 50


def perturb_after(events: list[MarketEvent], t: int) -> list[MarketEvent]:
    """Rewrites every event strictly after t: prices jump, sizes change, trades reverse side."""
    out: list[MarketEvent] = []
    for event in events:
        if event.ts_local <= t:
            out.append(event)
        elif isinstance(event, TopOfBook):
            out.append(
                dataclasses.replace(
                    event,
                    bid_price=event.bid_price + SHIFT_TICKS,
                    ask_price=event.ask_price + SHIFT_TICKS,
                    bid_size=event.bid_size * 2 + 1,
                )
            )
        elif isinstance(event, BookDelta):
            out.append(dataclasses.replace(event, size=event.size * 3 + 1))
        elif isinstance(event, Trade):
            out.append(
                dataclasses.replace(event, aggressor_side=Side(-event.aggressor_side), size=event.size * 5)
            )
        else:
            out.append(event)
    return out


def test_features_at_t_ignore_every_event_after_t(spot_events: list[MarketEvent]) -> None:
    spec = FeatureSpec()
    market = spot_events[0].market
    base = compute_features(iter(spot_events), spec, market)
    for t in (int(base.ts[len(base.ts) // 3]) + 1, int(base.ts[2 * len(base.ts) // 3])):
        changed = compute_features(iter(perturb_after(spot_events, t)), spec, market)
        upto = base.ts <= t
        assert np.array_equal(base.ts, changed.ts)
        assert np.array_equal(base.values[upto], changed.values[upto])
        assert not np.array_equal(base.values[~upto], changed.values[~upto])  # the perturbation is real


def test_labels_at_t_use_only_the_horizon_after_t(spot_events: list[MarketEvent]) -> None:
    spec, label_spec = FeatureSpec(), LabelSpec()
    market = spot_events[0].market
    base = compute_features(iter(spot_events), spec, market)
    t = int(base.ts[len(base.ts) // 2]) + 1
    changed = compute_features(iter(perturb_after(spot_events, t)), spec, market)
    before = compute_labels(base.ts, base.mid_ts, base.mid_x2, base.last_event_ts, label_spec)
    after = compute_labels(changed.ts, changed.mid_ts, changed.mid_x2, changed.last_event_ts, label_spec)
    last_at_t = int(np.flatnonzero(base.ts <= t)[-1])
    for h, horizon_ms in enumerate(label_spec.horizons_ms):
        done_by_t = base.ts + horizon_ms * 1_000_000 <= t
        # a label whose horizon ends by t cannot see the change
        assert np.array_equal(before.direction[done_by_t, h], after.direction[done_by_t, h])
        assert np.array_equal(before.return_bps[done_by_t, h], after.return_bps[done_by_t, h])
        # the label at t sees the jump that happens within its horizon
        assert after.direction[last_at_t, h] == UP
        assert after.return_bps[last_at_t, h] > before.return_bps[last_at_t, h]


def test_labels_on_a_known_mid_path() -> None:
    mid_ts = np.array([0, 1_000_000_000, 1_150_000_000], dtype=np.int64)
    mid_x2 = np.array([200_000, 200_001, 199_999], dtype=np.int64)  # +0.5 tick, then -1 tick
    sample_ts = np.array([900_000_000, 1_000_000_000, 1_100_000_000], dtype=np.int64)
    labels = compute_labels(sample_ts, mid_ts, mid_x2, 1_550_000_000, LabelSpec(horizons_ms=(100, 500)))
    assert labels.direction.tolist() == [[2, 0], [1, 0], [0, 1]]  # DOWN=0, FLAT=1, UP=2
    # 1.1 s + 500 ms runs past the last event at 1.55 s: no label (and a neutral placeholder)
    assert labels.valid.tolist() == [[True, True], [True, True], [True, False]]
    assert np.isclose(labels.return_bps[0, 0], np.log(200_001 / 200_000) * 1e4)
    assert np.allclose(labels.flat_band_bps, 0.25 * 2 / np.array([200_000, 200_001, 200_001]) * 1e4)
