"""`flashmm bench inference MODEL_DIR`: single-sample, single-thread latency of a loaded artifact."""

from __future__ import annotations

from pathlib import Path

import click
import torch

from flashmm_engine.cli_support import emit, start_command
from flashmm_engine.errors import InputError
from flashmm_engine.models.latency import measure_latency
from flashmm_engine.models.loader import PROBE_SEED, ModelRefused, load_model


@click.command("inference")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--calls", type=click.IntRange(100, 1_000_000), default=10_000, show_default=True)
def inference(model_dir: Path, calls: int) -> None:
    """Time `calls` predictions of one sample each, on one thread; prints {"calls", "p50_us", "p99_us"}."""
    start_command()
    try:
        loaded = load_model(model_dir)
    except ModelRefused as exc:
        raise InputError(f"model {model_dir} refused: {exc}") from None
    example = torch.randn((1, *loaded.input_shape), generator=torch.Generator().manual_seed(PROBE_SEED))
    latency = measure_latency(loaded.module, example, calls)
    emit({"calls": latency.calls, "p50_us": latency.p50_us, "p99_us": latency.p99_us})
