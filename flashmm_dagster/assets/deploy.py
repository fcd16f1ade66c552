"""Deployment: the exported TorchScript artifact (parity and latency verified) and its promotion."""

from pathlib import Path

import dagster as dg

from flashmm_dagster.assets.validation import model_validation
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.pipeline.export_check import verify_export
from flashmm_engine.pipeline.promotion import promote
from flashmm_engine.pipeline.training import read_candidate
from flashmm_engine.pipeline.validation import read_validation

GROUP = "deploy"
PARITY, LATENCY = "torchscript_parity", "inference_latency"


@dg.asset(
    group_name=GROUP,
    deps=[model_validation],
    kinds={"pytorch"},
    check_specs=[
        dg.AssetCheckSpec(
            PARITY,
            asset="exported_model",
            blocking=True,
            description="Scripted vs eager outputs at export, and a fresh load vs the probe.",
        ),
        dg.AssetCheckSpec(
            LATENCY,
            asset="exported_model",
            blocking=True,
            description="Single-sample CPU-time p99 within pipeline.latency_budget_us.",
        ),
    ],
)
def exported_model(flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Exported model**: the validated candidate's TorchScript file loaded exactly as the engine loads it
    (sha256, feature-spec hash, probe outputs), its scripted-vs-eager parity from export, a second load's
    outputs against the first (determinism), and single-sample inference latency measured now."""
    settings = flashmm.settings()
    candidate = read_candidate(flashmm.layout())
    result = verify_export(Path(candidate["model_dir"]))
    budget = settings.pipeline.latency_budget_us
    return dg.MaterializeResult(
        metadata={
            "version": candidate["version"],
            "path": dg.MetadataValue.path(str(Path(candidate["model_dir"]) / "model.pt")),
            "sha256": result.sha256,
            "parity_export_max_abs_diff": result.export_parity,
            "parity_reload_max_abs_diff": result.reload_parity,
            "latency_p50_us": result.latency.p50_us,
            "latency_p99_us": result.latency.p99_us,
            "latency_cpu_p99_us": result.latency.cpu_p99_us,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=PARITY,
                passed=result.parity_ok,
                metadata={
                    "export": result.export_parity,
                    "reload": result.reload_parity,
                    "tolerance": result.tolerance,
                },
            ),
            dg.AssetCheckResult(
                check_name=LATENCY,
                passed=result.latency.cpu_p99_us <= budget,
                metadata={
                    "cpu_p99_us": result.latency.cpu_p99_us,
                    "wall_p99_us": result.latency.p99_us,
                    "budget_us": budget,
                },
            ),
        ],
    )


@dg.asset(group_name=GROUP, deps=[exported_model], kinds={"sql"})
def production_model(flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Production model**: the candidate promoted to `production` in the registry (the previous production
    version retired in the same transaction), only when its validation passed. The publish sensor then
    announces `{version, path, sha256}` on the Redis stream `flashmm:models`; engines also poll the
    registry."""
    settings = flashmm.settings()
    candidate = read_candidate(flashmm.layout())
    validation = read_validation(flashmm.layout())
    if validation["candidate"]["version"] != candidate["version"]:
        raise dg.Failure(
            f"validation is for {validation['candidate']['version']}, not {candidate['version']}"
        )
    done = promote(
        flashmm.database(), settings.pipeline.model_name, candidate["version"], validation["passed"]
    )
    return dg.MaterializeResult(
        metadata={
            "name": done.model.name,
            "version": done.model.version,
            "path": dg.MetadataValue.path(done.model.path),
            "sha256": done.model.sha256,
            "retired": done.retired.version if done.retired else "none",
            "already_in_production": done.already,
        }
    )
