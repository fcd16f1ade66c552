"""Settings for reference market-data feeds and the raw recorder."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class BinanceSettings(BaseModel):
    market: str = Field(default="spot", pattern="^(spot|usdm)$", description="Binance market: spot or usdm.")
    symbol: str = Field(default="ETHUSDT", description="Symbol to follow.")
    ws_urls: list[str] = Field(
        default_factory=lambda: ["wss://stream.binance.com:9443"],
        description="Combined-stream websocket base URLs, tried in order on failure.",
    )
    rest_urls: list[str] = Field(
        default_factory=lambda: ["https://api.binance.com"],
        description="REST base URLs for depth snapshots, paired with ws_urls by index.",
    )
    stale_after_s: float = Field(
        default=5.0, gt=0, description="No message for this long marks the feed stale and forces a resync."
    )
    ping_interval_s: float = Field(default=20.0, gt=0, description="Websocket ping interval.")


class RecorderSettings(BaseModel):
    directory: Path = Field(default=Path("var/raw"), description="Where raw hourly feed segments go.")
    enabled: bool = Field(default=True, description="Record every received feed message.")
