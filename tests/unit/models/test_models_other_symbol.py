"""`model train` and `model evaluate` on a capture of another symbol (the COIN-M slices are too short to
warm the features up), with no flags."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from flashmm_engine import cli as cli_module


@pytest.mark.slow
def test_train_and_evaluate_a_btcusdt_capture(
    tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASHMM_DATABASE__URL", f"sqlite:///{tmp_path}/flashmm.db")
    monkeypatch.setenv("FLASHMM_MODELS__MAX_EPOCHS", "2")
    monkeypatch.setenv("FLASHMM_MODELS__SAMPLE_MS", "100")
    capture = str(fixtures_dir / "binance" / "spot_btcusdt_slice.raw.gz")
    runner = CliRunner()
    args = ["model", "train", "--data", capture, "--model", "logreg", "--out", str(tmp_path / "models")]
    trained = runner.invoke(cli_module.cli, args)
    assert trained.exit_code == 0, trained.output
    result = orjson.loads(trained.stdout)
    assert (result["market"], result["symbol"]) == ("spot", "BTCUSDT")
    assert (result["spec"]["tick_size"], result["spec"]["lot_size"]) == ("0.1", "0.00001")
    assert Path(result["model_dir"]).parent.name == "btcusdt-spot-logreg"
    assert result["n"] > 0 and set(result["horizons"]) == {"100ms", "200ms", "500ms", "1000ms"}
    evaluated = runner.invoke(
        cli_module.cli, ["model", "evaluate", result["model_dir"], "--data", capture, "--from-fraction", "0.7"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = orjson.loads(evaluated.stdout)
    assert (report["symbol"], report["spec"]["source"]) == ("BTCUSDT", "inferred")
    assert report["n"] == result["n"]
