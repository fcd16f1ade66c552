"""`flashmm model train` and `flashmm model evaluate`: each prints one JSON object on stdout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
import orjson

from flashmm_engine.cli_support import emit, start_command
from flashmm_engine.errors import InputError

if TYPE_CHECKING:
    from flashmm_engine.models.nets import ModelKind
    from flashmm_engine.models.pipeline import Market

CAPTURE_SUFFIXES = (".raw", ".raw.gz", ".gz")
MARKETS = click.Choice(["spot", "usdm"])


def expand_captures(inputs: tuple[Path, ...]) -> list[Path]:
    """Files as given; directories expand to the captures inside them, in name order."""
    paths: list[Path] = []
    for item in inputs:
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))
        else:
            paths.append(item)
    if not paths:
        raise click.BadParameter("no capture files found", param_hint="--data")
    return paths


def detect(paths: list[Path], market: str | None) -> Any:
    if market is not None:
        return market
    from flashmm_engine.marketdata.normalize import detect_market

    return detect_market(paths[0])


DATA_OPTION = click.option(
    "--data",
    "data",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Raw capture file or directory (repeatable).",
)


@click.command("train")
@DATA_OPTION
@click.option("--market", type=MARKETS, default=None, help="Default: detected from the capture.")
@click.option(
    "--model", "kind", type=click.Choice(["logreg", "mlp", "seq"]), default="mlp", show_default=True
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, resolve_path=True, path_type=Path),
    default=None,
    help="Artifact root (default: $FLASHMM_HOME/models).",
)
@click.option("--train-fraction", type=click.FloatRange(0.1, 0.95), default=0.7, show_default=True)
@click.option("--name", default=None, help="Model name (default: ethusdt-<market>-<model>).")
def train(
    data: tuple[Path, ...],
    market: str | None,
    kind: str,
    out: Path | None,
    train_fraction: float,
    name: str | None,
) -> None:
    """Train on the first part of the data by time, export, and register a candidate."""
    settings = start_command()
    from flashmm_engine.models.pipeline import train_from_captures

    paths = expand_captures(data)
    market = detect(paths, market)
    model_settings = (
        settings.models if out is None else settings.models.model_copy(update={"artifacts_dir": out})
    )
    result = train_from_captures(
        paths,
        cast("Market", market),
        cast("ModelKind", kind),
        name or f"ethusdt-{market}-{kind}",
        model_settings,
        settings.database.resolved_url,
        train_fraction,
    )
    emit(result)


@click.command("evaluate")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@DATA_OPTION
@click.option("--market", type=MARKETS, default=None, help="Default: detected from the capture.")
@click.option(
    "--from-fraction",
    type=click.FloatRange(0.0, 0.99),
    default=0.0,
    show_default=True,
    help="Score only samples after this fraction of the data's time span (e.g. 0.7 = held-out 30%).",
)
def evaluate(model_dir: Path, data: tuple[Path, ...], market: str | None, from_fraction: float) -> None:
    """Per-horizon accuracy on moves, log loss and Brier score vs. the top-of-book imbalance baseline."""
    start_command()
    from flashmm_engine.models.loader import ModelRefused
    from flashmm_engine.models.pipeline import evaluate_captures

    paths = expand_captures(data)
    try:
        emit(evaluate_captures(model_dir, paths, detect(paths, market), from_fraction))
    except ModelRefused as exc:
        raise InputError(f"model {model_dir} refused: {exc}") from None
