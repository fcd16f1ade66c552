"""Settings of hot model reload (the registry poll, the Redis stream) and of the shadow challenger."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReloadSettings(BaseModel):
    poll_interval_s: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="Seconds between registry polls for the production version (with or without Redis).",
    )
    stream: str = Field(
        default="flashmm:models", description="Redis stream that `model promote|rollback` appends to."
    )
    stream_block_ms: int = Field(
        default=1_000, ge=10, le=60_000, description="XREADGROUP block time of the stream consumer."
    )
    stream_maxlen: int = Field(
        default=1_000, ge=10, description="Approximate cap of the stream's length (XADD MAXLEN ~)."
    )
    reconnect_max_s: float = Field(
        default=5.0, gt=0, description="Cap of the jittered backoff between Redis reconnects."
    )
    latency_calls: int = Field(
        default=200,
        ge=10,
        le=100_000,
        description="Single-sample calls whose p99 must be within quoting.ml_inference_budget_us.",
    )
    shadow: bool = Field(
        default=False, description="Run a challenger model in shadow next to production (never traded)."
    )
    shadow_version: str | None = Field(
        default=None,
        description="Version of engine.model_name to shadow; unset = the latest validated version.",
    )
    shadow_budget_us: int = Field(
        default=1_000,
        ge=1,
        description="CPU budget of the shadow per market and cycle; cycles over it are paid back by "
        "skipped (counted) shadow cycles.",
    )
    predictions_cap_rows: int = Field(
        default=1_000_000,
        ge=10,
        description="Rows kept in table model_predictions (oldest deleted first).",
    )
    predictions_batch_rows: int = Field(
        default=500, ge=1, description="Paired prediction rows written per batch."
    )
    predictions_flush_s: float = Field(
        default=1.0, gt=0, description="A partial batch of prediction rows is written after this long."
    )
