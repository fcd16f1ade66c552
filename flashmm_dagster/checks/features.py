"""Quality of one partition's batch features: some warm samples, no NaN or inf after warm-up, values in
range (imbalances in [-1, 1], everything else bounded)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from flashmm_dagster.checks.gx import expect
from flashmm_engine.pipeline.store import TS, WARM, read_feature_table

ASSET = "features"
CHECKS = ("has_warm_samples", "finite_after_warmup", "values_in_range")
MAX_ABS_VALUE = 1e4
"""Features are normalized (spreads, ticks, vol units, typical sizes): beyond this something broke."""
IMBALANCE_PREFIX = "imb_"


def specs() -> list[dg.AssetCheckSpec]:
    descriptions = {
        "has_warm_samples": "At least one sample past the feature warm-up.",
        "finite_after_warmup": "No NaN or inf in any feature once warm.",
        "values_in_range": f"Imbalances in [-1, 1]; every feature within +-{MAX_ABS_VALUE:g}.",
    }
    return [dg.AssetCheckSpec(name, asset=ASSET, description=descriptions[name]) for name in CHECKS]


def run_checks(features_dir: Path) -> dict[str, dg.AssetCheckResult]:
    table = read_feature_table(features_dir)
    warm = table[table[WARM]]
    names = [c for c in table.columns if c not in (TS, WARM)]
    values = warm[names].to_numpy(np.float64)
    finite = np.isfinite(values)
    bad_names = [", ".join(n for n, ok in zip(names, row, strict=True) if not ok) for row in finite]
    per_row = pd.DataFrame(
        {"ts": warm[TS].to_numpy(), "non_finite": (~finite).sum(axis=1), "non_finite_features": bad_names},
        index=warm.index,
    )
    imbalance = [n for n in names if n.startswith(IMBALANCE_PREFIX)]
    with np.errstate(invalid="ignore"):
        ranges = pd.DataFrame(
            {
                "ts": warm[TS].to_numpy(),
                "max_abs_imbalance": np.nanmax(np.abs(warm[imbalance].to_numpy()), axis=1, initial=0.0),
                "max_abs_feature": np.nanmax(np.where(finite, np.abs(values), 0.0), axis=1, initial=0.0),
                "largest_feature": [names[i] for i in np.argmax(np.where(finite, np.abs(values), 0), axis=1)]
                if len(values)
                else [],
            },
            index=warm.index,
        )
    return {
        "has_warm_samples": expect(
            "has_warm_samples",
            warm,
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            ASSET,
            {"samples": len(table)},
        ),
        "finite_after_warmup": expect(
            "finite_after_warmup",
            per_row,
            gxe.ExpectColumnValuesToBeBetween(column="non_finite", min_value=0, max_value=0),
            ASSET,
        ),
        "values_in_range": _ranges(ranges),
    }


def _ranges(ranges: pd.DataFrame) -> dg.AssetCheckResult:
    from flashmm_dagster.checks.gx import expect_all

    return expect_all(
        "values_in_range",
        ASSET,
        [
            (
                "imbalance",
                ranges,
                gxe.ExpectColumnValuesToBeBetween(column="max_abs_imbalance", max_value=1.0),
            ),
            (
                "all",
                ranges,
                gxe.ExpectColumnValuesToBeBetween(column="max_abs_feature", max_value=MAX_ABS_VALUE),
            ),
        ],
    )
