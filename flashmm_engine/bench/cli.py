"""`flashmm bench pipeline --hours H`: time a day's retrain loop on a capture tiled to H hours."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from flashmm_engine.cli_support import emit, start_command

DEFAULT_CAPTURE = Path("/work/shared/data/binance/spot_ethusdt_20240808.raw.gz")


@click.command("pipeline")
@click.option(
    "--hours", type=click.FloatRange(min=0.01, max=48), default=1.0, show_default=True, help="Hours to tile."
)
@click.option(
    "--capture",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_CAPTURE,
    show_default=True,
    help="The real capture the H hours are tiled from.",
)
@click.option("--market", type=click.Choice(["spot", "usdm"]), default=None, help="Override detection.")
@click.option(
    "--model", "model_kind", type=click.Choice(["logreg", "mlp", "gbdt"]), default="logreg", show_default=True
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the tiled segments, model and registry go (default: a temporary directory, removed after).",
)
def pipeline(capture: Path, hours: float, market: str | None, model_kind: str, work_dir: Path | None) -> None:
    """Tile CAPTURE to H hours, then time load/normalize, features, labels, training, export and a
    validation backtest with the exported model; prints one JSON object (progress on stderr)."""
    from flashmm_engine.bench.pipeline import PipelineConfig, run_pipeline

    settings = start_command()
    temporary = work_dir is None
    directory = Path(tempfile.mkdtemp(prefix="flashmm-bench-")) if work_dir is None else work_dir.resolve()
    try:
        models = settings.models.model_copy(update={"artifacts_dir": directory / "models"})
        config = PipelineConfig(
            capture=capture,
            hours=hours,
            work_dir=directory,
            model_kind=model_kind,
            registry_url=f"sqlite:///{directory / 'registry.db'}",
            models=models,
            market=market,
        )
        emit(run_pipeline(config))
    finally:
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)
