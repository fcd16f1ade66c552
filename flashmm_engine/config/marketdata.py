"""Settings for reference market-data feeds and the raw recorder."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator


class BinanceSettings(BaseModel):
    market: str = Field(
        default="spot", pattern="^(spot|usdm|coinm)$", description="Binance market: spot, usdm or coinm."
    )
    symbol: str = Field(default="ETHUSDT", description="Symbol to follow.")
    ws_urls: list[str] = Field(
        default_factory=list,
        description="Combined-stream websocket base URLs, tried in order on failure; "
        "empty = Binance's public URL for the market.",
    )
    rest_urls: list[str] = Field(
        default_factory=list,
        description="REST base URLs for depth snapshots, paired with ws_urls by index; empty = public URL.",
    )
    stale_after_s: float = Field(
        default=5.0, gt=0, description="No message for this long marks the feed stale and forces a resync."
    )
    ping_interval_s: float = Field(default=20.0, gt=0, description="Websocket ping interval.")
    snapshot_limit: int = Field(
        default=1000, ge=5, le=5000, description="Levels per side in a REST snapshot."
    )
    reconnect_max_s: float = Field(default=10.0, gt=0, description="Cap of the jittered reconnect backoff.")

    @model_validator(mode="after")
    def _urls_paired(self) -> BinanceSettings:
        if self.rest_urls and len(self.ws_urls) != len(self.rest_urls):
            raise ValueError("binance.rest_urls must be empty or as long as ws_urls (paired by index)")
        return self


class RecorderSettings(BaseModel):
    directory: Path = Field(default=Path("var/raw"), description="Where raw hourly feed segments go.")
    enabled: bool = Field(default=True, description="Record every received feed message.")
