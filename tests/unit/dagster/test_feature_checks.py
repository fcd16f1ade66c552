"""features checks: the real slice's features pass; a NaN after warm-up and an out-of-range imbalance
fail with the sample rows naming the feature; an empty hour has no warm samples."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flashmm_dagster.checks import features as feature_checks
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.pipeline.ingest import features_partition
from flashmm_engine.pipeline.layout import FEATURES_FILE
from flashmm_engine.pipeline.store import write_empty_events

SAMPLE_NS = 50_000_000


def _features(events_dir: Path, out: Path) -> pd.DataFrame:
    features_partition(events_dir, out, "binance-spot-ethusdt", SAMPLE_NS)
    return pd.read_parquet(out / FEATURES_FILE)


@pytest.mark.covers(
    "check:features.has_warm_samples", "check:features.finite_after_warmup", "check:features.values_in_range",
    data="fixture",
)  # fmt: skip
def test_real_features_pass(events_dir: Path, tmp_path: Path) -> None:
    table = _features(events_dir, tmp_path / "f")
    assert table["warm"].sum() > 100
    results = feature_checks.run_checks(tmp_path / "f")
    failing = {n: r.metadata for n, r in results.items() if not r.passed}
    assert not failing


def test_nan_after_warmup_fails_finite_check(events_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "f"
    table = _features(events_dir, out)
    row = int(np.flatnonzero(table["warm"].to_numpy())[10])
    column = FeatureSpec().names()[3]
    table.loc[row, column] = np.nan
    table.to_parquet(out / FEATURES_FILE, index=False)
    results = feature_checks.run_checks(out)
    assert not results["finite_after_warmup"].passed
    assert results["values_in_range"].passed
    meta = results["finite_after_warmup"].metadata
    assert meta["observed"].value["partial_unexpected_list"] == [1]
    assert column in meta["sample_rows"].value


def test_imbalance_out_of_range_fails_range_check(events_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "f"
    table = _features(events_dir, out)
    row = int(np.flatnonzero(table["warm"].to_numpy())[0])
    table.loc[row, "imb_1"] = 1.5
    table.to_parquet(out / FEATURES_FILE, index=False)
    result = feature_checks.run_checks(out)["values_in_range"]
    assert not result.passed
    assert result.metadata["failed_case"].value == "imbalance"
    assert result.metadata["observed"].value["partial_unexpected_list"] == [1.5]


def test_empty_hour_has_no_warm_samples(tmp_path: Path) -> None:
    write_empty_events("binance-spot-ethusdt", tmp_path / "e")
    features_partition(tmp_path / "e", tmp_path / "f", "binance-spot-ethusdt", SAMPLE_NS)
    results = feature_checks.run_checks(tmp_path / "f")
    assert not results["has_warm_samples"].passed
    assert results["has_warm_samples"].metadata["observed"].value == {"observed_value": 0}
