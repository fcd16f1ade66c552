"""Training is deterministic, splits are by time, and the metrics compute what they claim."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from flashmm_engine.features.labels import DOWN, FLAT, UP
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.dataset import Dataset, mirrored
from flashmm_engine.models.holdout import split_by_time
from flashmm_engine.models.metrics import (
    baseline_accuracy,
    baseline_probs,
    brier,
    direction_accuracy,
    fit_baseline,
    log_loss,
)
from tests.unit.models.conftest import train_small


def test_same_seed_same_model_different_seed_different_model(slice_dataset: Dataset) -> None:
    first = train_small(slice_dataset, "mlp", seed=11).model.state_dict()
    again = train_small(slice_dataset, "mlp", seed=11).model.state_dict()
    other = train_small(slice_dataset, "mlp", seed=12).model.state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_split_is_by_time_with_an_embargo(slice_dataset: Dataset) -> None:
    embargo = 1_000_000_000
    split = split_by_time(slice_dataset, 0.7, 0.2, embargo)
    assert split.fit.ts.max() + embargo < split.val.ts.min()
    assert split.val.ts.max() + embargo < split.test.ts.min()
    assert np.all(np.diff(split.train.ts) > 0) and np.all(np.diff(split.test.ts) > 0)
    assert len(split.fit) and len(split.val) and len(split.test)


def test_mirroring_flips_direction_and_labels(slice_dataset: Dataset) -> None:
    names = FeatureSpec().names()
    both = mirrored(slice_dataset, names)
    n = len(slice_dataset)
    assert len(both) == 2 * n
    imb = names.index("imb_1")
    assert np.array_equal(both.x[n:, imb], -slice_dataset.x[:, imb])
    assert np.array_equal(both.y[n:], 2 - slice_dataset.y)


def test_metrics_on_known_values() -> None:
    y = np.array([UP, DOWN, FLAT, UP])
    uniform = np.full((4, 3), 1 / 3)
    assert log_loss(uniform, y) == pytest.approx(math.log(3))
    assert brier(uniform, y) == pytest.approx(2 / 3)
    confident = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.6, 0.2], [0.5, 0.1, 0.4]])
    assert direction_accuracy(confident, y) == pytest.approx(2 / 3)  # flat excluded; last is wrong


def test_baseline_follows_the_sign_of_imbalance() -> None:
    imbalance = np.array([0.5, -0.2, 0.1, -0.9, 0.3])
    y = np.array([[UP], [DOWN], [FLAT], [UP], [UP]])
    assert baseline_accuracy(imbalance, y[:, 0]) == pytest.approx(3 / 4)
    table = fit_baseline(imbalance, y)
    assert np.allclose(table.sum(axis=2), 1)
    probs = baseline_probs(table, imbalance)
    assert probs.shape == (5, 1, 3)
    assert probs[0, 0, UP] > probs[0, 0, DOWN]  # positive imbalance: up more likely than down
