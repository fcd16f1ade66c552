"""`flashmm model train`, `model evaluate` and `bench inference` end to end on a real capture slice."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from flashmm_engine import cli as cli_module
from flashmm_engine.config.models import ModelSettings
from flashmm_engine.features.batch import FeatureFrame
from flashmm_engine.models.crossval import crossval_frames
from flashmm_engine.models.registry import ModelRegistry

CLI_TIMEOUT_S = 120
TRAIN_TIMEOUT_S = 600
METRICS = {"accuracy", "baseline_accuracy", "log_loss", "baseline_log_loss", "brier"}


@pytest.mark.slow
def test_train_then_evaluate_then_bench(
    tmp_path: Path, slice_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_url = f"sqlite:///{tmp_path}/var/flashmm.db"  # the parent directory does not exist yet
    monkeypatch.setenv("FLASHMM_DATABASE__URL", db_url)
    monkeypatch.setenv("FLASHMM_MODELS__MAX_EPOCHS", "4")
    monkeypatch.setenv("FLASHMM_MODELS__SAMPLE_MS", "100")
    runner = CliRunner()
    # a real process: its stderr is the command's own, whatever logging state earlier in-process tests left
    args = ["model", "train", "--data", str(slice_path), "--model", "mlp", "--out", str(tmp_path / "models")]
    flashmm = str(Path(sys.executable).parent / "flashmm")
    trained = subprocess.run([flashmm, *args], capture_output=True, text=True, timeout=TRAIN_TIMEOUT_S)
    assert trained.returncode == 0, trained.stderr[-2000:]
    result = orjson.loads(trained.stdout)
    model_dir = Path(result["model_dir"])
    assert model_dir.parent == tmp_path / "models" / "ethusdt-spot-mlp"
    assert (model_dir / "model.pt").is_file() and (model_dir / "manifest.json").is_file()
    assert set(result["horizons"]) == {"100ms", "200ms", "500ms", "1000ms"}
    assert all(set(m) >= METRICS for m in result["horizons"].values())
    manifest = orjson.loads((model_dir / "manifest.json").read_bytes())
    selection = manifest["input_selection"]  # chosen on the training window, recorded with its scores
    assert selection["method"].startswith("group-wise forward selection")
    assert manifest["input_features"] == selection["features"] and selection["groups"]
    assert manifest["validation"]["mirror_augment"] == selection["mirror_augment"]
    assert selection["inner_val_log_loss"] < selection["steps"][0]["inner_val_log_loss"]
    assert set(manifest["timings_s"]) == {"normalize+features", "selection+training"}
    for phase in ("normalize+features done", "selection: best addition", "trained mlp"):
        assert phase in trained.stderr  # progress on stderr, stdout keeps the one JSON object

    registry = ModelRegistry(db_url)
    try:
        [row] = registry.list("ethusdt-spot-mlp")
    finally:
        registry.close()
    assert (row.version, row.stage, row.path) == (result["version"], "candidate", str(model_dir))

    evaluated = runner.invoke(
        cli_module.cli,
        ["model", "evaluate", str(model_dir), "--data", str(slice_path), "--from-fraction", "0.7"],
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = orjson.loads(evaluated.stdout)
    # evaluate on the held-out 30% reproduces the figures training reported for it
    assert report["n"] == result["n"]
    for name, metrics in report["horizons"].items():
        assert metrics["log_loss"] == pytest.approx(result["horizons"][name]["log_loss"], abs=1e-5)

    # by default only samples outside the training window are scored, with intervals on every figure
    default = runner.invoke(cli_module.cli, ["model", "evaluate", str(model_dir), "--data", str(slice_path)])
    assert default.exit_code == 0, default.output
    held = orjson.loads(default.stdout)
    end_ns = manifest["training_windows"]["binance-spot:ETHUSDT"]["end_ns"]
    assert 0 < held["n"] <= report["n"] and held["warnings"] == []
    assert "outside" in held["held_out"]["rule"] and end_ns > 0
    for metrics in held["horizons"].values():
        for metric in ("accuracy", "log_loss", "brier"):
            low, high = metrics[f"{metric}_diff_ci"]
            assert low <= metrics[f"{metric}_diff"] <= high
            assert metrics["beats_baseline"][metric] == (low > 0 if metric == "accuracy" else high < 0)

    # an instrument the model never saw: scored in full, with a warning on stderr and in the JSON
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(model_dir, elsewhere)
    manifest["training_windows"] = {"binance-usdm:ETHUSDT": manifest["training_windows"].popitem()[1]}
    (elsewhere / "manifest.json").write_bytes(orjson.dumps(manifest))
    # the warning is the command's output, not a log line: it reaches stderr even when a library in the same
    # process has reconfigured or disabled logging (the CI run that found this had celery's set-up before it)
    logging.disable(logging.CRITICAL)
    try:
        other = runner.invoke(
            cli_module.cli, ["model", "evaluate", str(elsewhere), "--data", str(slice_path)]
        )
    finally:
        logging.disable(logging.NOTSET)
    assert other.exit_code == 0, other.output
    warned = orjson.loads(other.stdout)
    assert warned["warnings"] == [
        "model was trained on binance-usdm:ETHUSDT; it meets binance-spot:ETHUSDT, "
        "which it was not trained on"
    ]
    assert warned["warnings"][0] in other.stderr
    assert warned["n"] > held["n"]  # all of it: none of this instrument was training data

    bench = runner.invoke(cli_module.cli, ["bench", "inference", str(model_dir), "--calls", "500"])
    assert bench.exit_code == 0, bench.output
    timing = orjson.loads(bench.stdout)
    assert timing["calls"] == 500 and 0 < timing["p50_us"] <= timing["p99_us"]
    assert timing["cpu_p99_us"] > 0


@pytest.mark.slow
def test_crossval_leaves_each_instrument_out(slice_frames: list[FeatureFrame]) -> None:
    """The slice and a copy of it as another instrument a day later (the features are scale-free, so
    rescaled sizes or prices would give the same frame)."""
    [frame] = slice_frames
    day = 86_400 * 10**9
    other = dataclasses.replace(
        frame,
        market="test:OTHER",
        ts=frame.ts + day,
        mid_ts=frame.mid_ts + day,
        last_event_ts=frame.last_event_ts + day,
    )
    settings = ModelSettings(
        max_epochs=3,
        sample_ms=200,
        bootstrap_reps=200,
        input_features=["imb_1", "imb_3", "microprice_offset_spread"],
    )
    report = crossval_frames([frame, other], ["logreg", "gbdt"], settings, 0.7)
    assert [f["held_out"] for f in report["folds"]] == ["binance-spot:ETHUSDT", "test:OTHER"]
    for fold in report["folds"]:
        assert fold["train_instruments"] == [i for i in report["instruments"] if i != fold["held_out"]]
        assert set(fold["models"]) == {"logreg", "logreg+residual", "gbdt", "gbdt+residual"}
        inner = {name: m["inner_val_log_loss"] for name, m in fold["models"].items()}
        assert fold["chosen"] == min(inner, key=lambda name: inner[name])
        assert 0 < fold["n_test"] < 0.35 * len(frame.ts)  # the held-out instrument after the time cut
    assert len(report["table"]) == 2 * 4 * 4  # folds x models x horizons
    assert sum(row["chosen"] for row in report["table"]) == 2 * 4


def test_crossval_refuses_a_single_instrument(slice_path: Path) -> None:
    flashmm = Path(sys.executable).parent / "flashmm"
    args = [str(flashmm), "model", "crossval", "--models", "logreg", "--data", str(slice_path)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "flashmm: leave-one-instrument-out needs captures of two or more instruments; "
        "found ['binance-spot:ETHUSDT']"
    )
