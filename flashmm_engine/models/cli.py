"""`flashmm model train` and `flashmm model evaluate`: each prints one JSON object on stdout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

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


def detect(paths: list[Path], market: str | None) -> tuple[list[Market], dict[str, Any]]:
    """Each capture's market (the one given, or detected per file: captures may mix markets) and what the
    first capture holds: venue, symbol and spec."""
    from flashmm_engine.venues.captures import open_capture

    infos = [open_capture(path, market)[1] for path in paths]
    return [cast("Market", info.market) for info in infos], infos[0].describe()


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
    "--model",
    "kind",
    type=click.Choice(["logreg", "mlp", "seq", "gbdt"]),
    default="mlp",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, resolve_path=True, path_type=Path),
    default=None,
    help="Artifact root (default: $FLASHMM_HOME/models).",
)
@click.option("--train-fraction", type=click.FloatRange(0.1, 0.95), default=0.7, show_default=True)
@click.option("--name", default=None, help="Model name (default: <symbol>-<market>-<model>).")
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
    markets, capture = detect(paths, market)
    model_settings = (
        settings.models if out is None else settings.models.model_copy(update={"artifacts_dir": out})
    )
    result = train_from_captures(
        paths,
        markets,
        cast("ModelKind", kind),
        name or f"{str(capture['symbol']).lower()}-{'+'.join(dict.fromkeys(markets))}-{kind}",
        model_settings,
        settings.database.resolved_url,
        train_fraction,
    )
    emit({**capture, **result})


@click.command("evaluate")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@DATA_OPTION
@click.option("--market", type=MARKETS, default=None, help="Default: detected from the capture.")
@click.option(
    "--from-fraction",
    type=click.FloatRange(0.0, 0.99),
    default=None,
    help="Score the samples after this fraction of each instrument's span instead of the default: "
    "everything outside the model's training windows.",
)
def evaluate(
    model_dir: Path, data: tuple[Path, ...], market: str | None, from_fraction: float | None
) -> None:
    """Per horizon, on held-out samples: accuracy on moves, log loss and Brier score, the baseline's
    (sign of top-of-book imbalance), and their differences, each with a block-bootstrap interval."""
    settings = start_command()
    from flashmm_engine.models.loader import ModelRefused
    from flashmm_engine.models.pipeline import evaluate_captures

    paths = expand_captures(data)
    markets, capture = detect(paths, market)
    try:
        result = evaluate_captures(model_dir, paths, markets, from_fraction, settings.models)
    except ModelRefused as exc:
        raise InputError(f"model {model_dir} refused: {exc}") from None
    for warning in result["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    emit({**capture, **result})


@click.command("crossval")
@DATA_OPTION
@click.option("--market", type=MARKETS, default=None, help="Default: detected per capture.")
@click.option(
    "--models",
    "kinds",
    default=None,
    help="Comma-separated model kinds (default: settings models.crossval_kinds); each is fitted plain "
    "and as a residual on the baseline.",
)
@click.option("--train-fraction", type=click.FloatRange(0.1, 0.95), default=0.7, show_default=True)
def crossval(data: tuple[Path, ...], market: str | None, kinds: str | None, train_fraction: float) -> None:
    """Leave-one-instrument-out comparison of every model kind against the baseline, with intervals."""
    settings = start_command()
    from flashmm_engine.models.crossval import crossval as run_crossval

    paths = expand_captures(data)
    chosen = kinds.split(",") if kinds else settings.models.crossval_kinds
    emit(run_crossval(paths, detect(paths, market)[0], chosen, settings.models, train_fraction))
