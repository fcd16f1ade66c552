"""`flashmm model train`, `model evaluate` and `bench inference` end to end on a real capture slice."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from flashmm_engine import cli as cli_module
from flashmm_engine.models.registry import ModelRegistry

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
    args = ["model", "train", "--data", str(slice_path), "--model", "mlp", "--out", str(tmp_path / "models")]
    trained = runner.invoke(cli_module.cli, args)
    assert trained.exit_code == 0, trained.output
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
    assert set(manifest["timings_s"]) == {"normalize+features", "selection", "training"}
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

    bench = runner.invoke(cli_module.cli, ["bench", "inference", str(model_dir), "--calls", "500"])
    assert bench.exit_code == 0, bench.output
    timing = orjson.loads(bench.stdout)
    assert timing["calls"] == 500 and 0 < timing["p50_us"] <= timing["p99_us"]
