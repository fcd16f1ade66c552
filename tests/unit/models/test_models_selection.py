"""Input selection uses the training window only, is deterministic, and finds real signal."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from flashmm_engine.config.models import ModelSettings
from flashmm_engine.features.labels import DOWN, FLAT, UP
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.dataset import Dataset
from flashmm_engine.models.pipeline import choose_inputs, split_by_time
from flashmm_engine.models.selection import (
    SelectionConfig,
    feature_groups,
    inner_folds,
    select_features,
)

EMBARGO_NS = 1_000_000_000
NAMES = FeatureSpec().names()
SETTINGS = ModelSettings(selection_max_samples=2_000, selection_min_gain=0.01)
PLANTED = "vwap_offset_spread_5000ms"
"""Planted signals use a direction-like (odd) feature: mirror augmentation flips it with the label."""
TICK_NS = FeatureSpec().tick_ns


def test_every_feature_is_in_exactly_one_group() -> None:
    for spec in (FeatureSpec(), FeatureSpec(reference_market="binance-usdm:ETHUSDT")):
        names = spec.names()
        groups = feature_groups(names)
        assert sorted(i for cols in groups.values() for i in cols) == list(range(len(names)))
    assert [NAMES[i] for i in groups["imbalance"]] == ["imb_1", "imb_3", "imb_5", "imb_10"]
    assert "ref_ret_1000ms_z" in [names[i] for i in groups["reference"]]
    with pytest.raises(ValueError, match="no selection group"):
        feature_groups([*NAMES, "mystery"])


def test_inner_folds_walk_forward_inside_the_training_window(slice_dataset: Dataset) -> None:
    train = split_by_time(slice_dataset, 0.7, 0.2, EMBARGO_NS).train
    folds = inner_folds(train, SelectionConfig(folds=2, fold_fraction=0.2), EMBARGO_NS)
    assert len(folds) == 2
    for fit, val in folds:
        assert fit.ts.max() + EMBARGO_NS < val.ts.min()
        assert train.ts.min() <= fit.ts.min() and val.ts.max() <= train.ts.max()
    assert folds[0][1].ts.max() < folds[1][1].ts.min()  # validation blocks move forward in time
    assert folds[1][1].ts.max() == train.ts.max()
    assert len(folds[1][0]) > len(folds[0][0])  # expanding window
    with pytest.raises(ValueError, match="too short"):
        inner_folds(train, SelectionConfig(folds=4, fold_fraction=0.25), EMBARGO_NS)


def with_planted_signal(ds: Dataset, feature: str, where: np.ndarray) -> Dataset:  # type: ignore[type-arg]
    """Labels on `where` rewritten to follow the sign of one feature (a signal no other group carries)."""
    column = ds.x[where, NAMES.index(feature), None]
    y = ds.y.copy()
    y[where] = np.where(column > 0, UP, np.where(column < 0, DOWN, FLAT))
    return dataclasses.replace(ds, y=y)


@pytest.mark.slow
def test_selection_finds_a_signal_planted_in_the_training_window(slice_dataset: Dataset) -> None:
    planted = with_planted_signal(slice_dataset, PLANTED, np.ones(len(slice_dataset), bool))
    split = split_by_time(planted, 0.7, 0.2, EMBARGO_NS)
    _, record = choose_inputs(split.train, NAMES, SETTINGS, EMBARGO_NS, TICK_NS)
    assert record["groups"][0] == "trade_price"
    assert PLANTED in record["features"]
    steps = record["steps"]
    assert steps[0]["added"] is None and steps[1]["added"] == "trade_price"
    scores = [step["inner_val_log_loss"] for step in steps]
    assert all(later < earlier for earlier, later in itertools.pairwise(scores))
    assert record["inner_val_log_loss"] == scores[-1]
    # mirroring (on by default) is switched off only if that scores better by at least min_gain
    on, off = record["mirror_scores"]["on"], record["mirror_scores"]["off"]
    assert on == scores[-1] and record["mirror_augment"] == (on - off < SETTINGS.selection_min_gain)


@pytest.mark.slow
def test_selection_never_sees_the_held_out_period(slice_dataset: Dataset) -> None:
    """A signal planted only after the train/test cut changes nothing: the choice is made before it."""
    cut = split_by_time(slice_dataset, 0.7, 0.2, EMBARGO_NS).test.ts.min()
    leaked = with_planted_signal(slice_dataset, PLANTED, slice_dataset.ts >= cut)
    honest, again = (
        choose_inputs(split_by_time(ds, 0.7, 0.2, EMBARGO_NS).train, NAMES, SETTINGS, EMBARGO_NS, TICK_NS)
        for ds in (slice_dataset, leaked)
    )
    assert honest == again  # same indices, same record, scores bit for bit (deterministic)


def test_fixed_inputs_from_settings_are_recorded_as_such(slice_dataset: Dataset) -> None:
    train = split_by_time(slice_dataset, 0.7, 0.2, EMBARGO_NS).train
    fixed = ModelSettings(input_features=["imb_1", "spread_ticks"])
    index, record = choose_inputs(train, NAMES, fixed, EMBARGO_NS, TICK_NS)
    assert index == [NAMES.index("imb_1"), NAMES.index("spread_ticks")]
    assert record["method"].startswith("fixed") and record["features"] == ["imb_1", "spread_ticks"]
    with pytest.raises(ValueError, match="unknown features"):
        choose_inputs(train, NAMES, ModelSettings(input_features=["nope"]), EMBARGO_NS, TICK_NS)


def test_selection_refuses_when_nothing_beats_the_priors(slice_dataset: Dataset) -> None:
    rng = np.random.default_rng(3)
    noise = dataclasses.replace(slice_dataset, y=rng.integers(0, 3, size=slice_dataset.y.shape))
    train = split_by_time(noise, 0.7, 0.2, EMBARGO_NS).train
    with pytest.raises(ValueError, match="no feature group improves"):
        select_features(train, NAMES, SelectionConfig(min_gain=0.05, max_samples=2_000), EMBARGO_NS)
