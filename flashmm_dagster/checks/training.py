"""The training set: enough labelled samples, and every direction represented at every horizon."""

from __future__ import annotations

import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd

from flashmm_dagster.checks.gx import expect

ASSET = "training_set"
CHECKS = ("enough_samples", "class_balance")


def specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "enough_samples", asset=ASSET, description="At least pipeline.min_training_samples."
        ),
        dg.AssetCheckSpec(
            "class_balance",
            asset=ASSET,
            description="Each direction (down, flat, up) is at least pipeline.min_class_fraction of labels "
            "at every horizon.",
        ),
    ]


def run_checks(
    labels: pd.DataFrame, balance: dict[str, dict[str, float]], min_samples: int, min_fraction: float
) -> dict[str, dg.AssetCheckResult]:
    shares = pd.DataFrame(
        [{"horizon": h, "direction": d, "fraction": f} for h, by in balance.items() for d, f in by.items()],
        columns=["horizon", "direction", "fraction"],
    )
    return {
        "enough_samples": expect(
            "enough_samples", labels, gxe.ExpectTableRowCountToBeBetween(min_value=min_samples), ASSET
        ),
        "class_balance": expect(
            "class_balance",
            shares,
            gxe.ExpectColumnValuesToBeBetween(column="fraction", min_value=min_fraction),
            ASSET,
            {"balance": dg.MetadataValue.md(shares.to_markdown(index=False)) if len(shares) else "no labels"},
        ),
    }
