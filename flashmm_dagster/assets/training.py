"""Training: the training set (a window of recent feature partitions) and the candidate model."""

import dagster as dg
import pandas as pd

from flashmm_dagster.assets.common import iso, md_table
from flashmm_dagster.assets.features import features
from flashmm_dagster.checks import training as training_checks
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.pipeline.training import LABELS_FILE, build_training_set, train_candidate

GROUP = "training"


@dg.asset(group_name=GROUP, deps=[features], check_specs=training_checks.specs(), kinds={"parquet"})
def training_set(flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Training set**: per market, the most recent `FLASHMM_PIPELINE__TRAINING_WINDOW_HOURS` hours with
    features, labelled (mid direction down/flat/up and return at 100/200/500/1000 ms). The first
    `FLASHMM_PIPELINE__TRAIN_FRACTION` of each market's span is trained on; the rest is held out for
    validation.

    Checks: enough samples, every direction represented at every horizon."""
    settings = flashmm.settings()
    layout = flashmm.layout()
    summary = build_training_set(layout, settings.pipeline, settings.models)
    labels = pd.read_parquet(layout.training_set / LABELS_FILE)
    balance_rows = [[h, *(round(v, 4) for v in by.values())] for h, by in summary["class_balance"].items()]
    return dg.MaterializeResult(
        metadata={
            "samples": summary["samples"],
            "partitions": summary["partition_count"],
            "window": dg.MetadataValue.json(summary["partitions"]),
            "from": iso(summary["ts_min"]),
            "to": iso(summary["ts_max"]),
            "class_balance": md_table(["horizon", "down", "flat", "up"], balance_rows),
            "path": dg.MetadataValue.path(str(layout.training_set)),
        },
        check_results=list(
            training_checks.run_checks(
                labels,
                summary["class_balance"],
                settings.pipeline.min_training_samples,
                settings.pipeline.min_class_fraction,
            ).values()
        ),
    )


class CandidateConfig(dg.Config):
    shuffle_labels_seed: int | None = None
    """Train on permuted labels: a deliberately worse candidate, to see the validation gate block it."""


@dg.asset(group_name=GROUP, deps=[training_set], kinds={"pytorch"})
def candidate_model(config: CandidateConfig, flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Candidate model**: trained on the training set's training part (input selection, fit, early
    stopping and temperature calibration inside it), exported to TorchScript
    (`models/<name>/<version>/model.pt` + `manifest.json`) and registered as a `candidate` in the model
    registry. Metadata: the held-out metrics per horizon against the imbalance baseline."""
    settings = flashmm.settings()
    result = train_candidate(
        flashmm.layout(), settings.pipeline, settings.models, flashmm.database(), config.shuffle_labels_seed
    )
    horizons = result["horizons"]
    rows = [[h, m["n_moves"], m["accuracy"], m["baseline_accuracy"], m["log_loss"], m["baseline_log_loss"],
             m["beats_baseline"]["log_loss"]] for h, m in horizons.items()]  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "version": result["version"],
            "name": settings.pipeline.model_name,
            "kind": settings.pipeline.model_kind,
            "model_dir": dg.MetadataValue.path(result["model_dir"]),
            "held_out_samples": result["n"],
            "labels_shuffled": config.shuffle_labels_seed is not None,
            "metrics": md_table(
                ["horizon", "moves", "accuracy", "baseline acc.", "log loss", "baseline log loss", "beats"],
                rows,
            ),
        }
    )
