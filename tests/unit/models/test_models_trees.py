"""Boosted trees served by our TorchScript module give LightGBM's own scores; residual models start from
the baseline; splits and held-out samples are taken per instrument."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
import torch

from flashmm_engine.errors import InputError
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.dataset import Dataset
from flashmm_engine.models.holdout import held_out, split_by_time
from flashmm_engine.models.metrics import baseline_probs, fit_baseline
from flashmm_engine.models.nets import ProbabilityModel
from flashmm_engine.models.trees import ensemble_from_dumps, float32_at_most, path_matrix

DEPTH = 4


def test_tree_ensemble_reproduces_lightgbm_raw_scores() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3_000, 6)).astype(np.float32)
    y = np.digitize(x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + rng.normal(size=3_000), [-0.7, 0.7])
    params = {"objective": "multiclass", "num_class": 3, "max_depth": DEPTH, "num_leaves": 11}
    params |= {"min_data_in_leaf": 40, "verbosity": -1, "num_threads": 1, "seed": 1}
    booster = lightgbm.train(params, lightgbm.Dataset(x, y), num_boost_round=25)
    dump = booster.dump_model()
    depths = {_leaf_depths(t["tree_structure"]) for t in dump["tree_info"]}
    assert len({d for ds in depths for d in ds}) > 1  # leaves at several depths: padding is exercised
    ensemble = torch.jit.script(ensemble_from_dumps([dump, dump], DEPTH))
    ours = ensemble(torch.from_numpy(x)).double().numpy()
    raw = booster.predict(x, raw_score=True)
    assert ours.shape == (3_000, 2, 3)
    assert np.abs(ours[:, 0] - raw).max() < 1e-4
    assert np.abs(ours[:, 0] - ours[:, 1]).max() < 1e-6


def _leaf_depths(node: dict, depth: int = 0) -> frozenset[int]:  # type: ignore[type-arg]
    if "leaf_value" in node:
        return frozenset({depth})
    return _leaf_depths(node["left_child"], depth + 1) | _leaf_depths(node["right_child"], depth + 1)


def test_threshold_rounding_keeps_every_float32_on_its_side() -> None:
    for value in (0.1, -2.3333333333, 1e-8, 3.0):
        single = float32_at_most(value)
        assert float(single) <= value
        assert float(np.nextafter(single, np.float32(np.inf))) > value


def test_path_matrix_marks_exactly_one_leaf_per_set_of_decisions() -> None:
    path, n_left = path_matrix(3)
    for bits in range(1 << 7):
        left = torch.tensor([(bits >> k) & 1 for k in range(7)], dtype=torch.float32)
        assert int(((left @ path) == n_left).sum()) == 1


def test_residual_model_with_a_silent_network_is_the_baseline(slice_dataset: Dataset) -> None:
    names = FeatureSpec().names()
    table = fit_baseline(slice_dataset.imbalance, slice_dataset.y)

    class Silent(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.zeros(x.shape[0], 4, 3)

    index = torch.arange(3)
    model = ProbabilityModel(
        Silent(),
        index,
        torch.zeros(3),
        torch.ones(3),
        4,
        torch.from_numpy(np.log(table)),
        names.index("imb_1"),
    )
    scripted = torch.jit.script(model)
    probs = scripted(torch.from_numpy(slice_dataset.x[:500])).double().numpy()
    expected = baseline_probs(table, slice_dataset.imbalance[:500])
    assert np.abs(probs - expected).max() < 1e-6


def two_instruments(ds: Dataset) -> Dataset:
    """The slice as two instruments, the second a day later: each must split by its own time."""
    later = ds.ts + 86_400 * 10**9
    return Dataset(
        np.concatenate([ds.ts, later]),
        np.concatenate([ds.x, ds.x]),
        np.concatenate([ds.y, ds.y]),
        np.concatenate([ds.imbalance, ds.imbalance]),
        np.repeat([0, 1], len(ds)),
        ("test:A", "test:B"),
    )


def test_time_split_happens_inside_each_instrument(slice_dataset: Dataset) -> None:
    split = split_by_time(two_instruments(slice_dataset), 0.7, 0.2, 10**9)
    for part in (split.fit, split.val, split.test):
        counts = np.bincount(part.source, minlength=2)
        assert counts[0] == counts[1] > 0  # a pooled time cut would put all of A in train, B in test


def test_held_out_skips_each_trained_instruments_window_and_warns_on_new_ones(slice_dataset: Dataset) -> None:
    ds = two_instruments(slice_dataset)
    a_ts = ds.ts[ds.source == 0]
    window = {"start_ns": int(a_ts[0]), "end_ns": int(a_ts[len(a_ts) // 2])}
    manifest = {"training_windows": {"test:A": window}}
    scored = held_out(ds, manifest, 10**9, None)
    kept_a = ds.ts[scored.mask & (ds.source == 0)]
    assert len(kept_a) and kept_a.min() > window["end_ns"] + 10**9
    assert scored.mask[ds.source == 1].all()  # never trained on: every sample is held out
    assert scored.warnings == ["model was trained on test:A; it meets test:B, which it was not trained on"]
    everything = {
        "training_windows": {n: {"start_ns": 0, "end_ns": int(ds.ts.max())} for n in ds.instruments}
    }
    with pytest.raises(InputError, match="inside the model's training window"):
        held_out(ds, everything, 10**9, None)
    legacy = held_out(ds, {}, 10**9, None)  # no windows recorded: the last 30% of each instrument
    assert legacy.mask.sum() == pytest.approx(0.3 * len(ds), rel=0.05) and legacy.warnings
