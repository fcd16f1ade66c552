"""Settings of the live engine (`flashmm engine run`): instance, markets, cadence, venue, reconciliation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

INSTANCE_ID = re.compile(r"^[A-Za-z0-9]{1,16}$")


class EngineSettings(BaseModel):
    instance_id: str = Field(
        default="e1",
        description="Engine instance id (1-16 letters/digits); also the client-order-id prefix '<id>-'. "
        "Every process sharing a ledger needs its own.",
    )
    markets: list[str] = Field(
        default_factory=lambda: ["SIM:ETHUSD"],
        description="Markets to quote (JSON list); --markets picks a subset.",
    )
    venue: Literal["sim", "sei"] = Field(
        default="sim", description="Venue kind: the sim venue process or Sei."
    )
    sim_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Market -> sim venue websocket URL (JSON); a market not listed uses ws://sim.host:sim.port.",
    )
    sim_account: str = Field(
        default="mm", description="Account at the sim venue; its key is looked up in sim.api_keys."
    )
    cycle_hz: float = Field(default=5.0, ge=1.0, le=20.0, description="Quote cycles per second (1-20).")
    reconcile_interval_s: float = Field(
        default=10.0, gt=0, description="Seconds between reconciliations with the venue during the run."
    )
    on_disagreement: Literal["reducing", "halted"] = Field(
        default="halted",
        description="Trading state a market moves to when the venue and the ledger disagree.",
    )
    start_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="Start-up reconciliation must agree within this, or the market stays off.",
    )
    ledger_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the ledger (secret: may hold a password); unset = database.url.",
    )
    fill_journal_dir: Path | None = Field(
        default=None,
        description="Directory of the local fill journals (one fsync'd file per market) that hold fills "
        "while the ledger database is down; unset = <home>/fill-journal.",
    )
    fill_journal_max_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=4096,
        description="Size cap of one market's fill journal (16 MiB: about 50,000 fills); a full "
        "journal halts the market.",
    )
    model_name: str | None = Field(
        default=None,
        description="Registered model whose production version is loaded at start; unset = none.",
    )
    reference_feed: bool = Field(
        default=False, description="Subscribe to the Binance reference feed for the basis feature."
    )
    reference_symbol: str = Field(default="ETHUSDT", description="Binance symbol of the reference feed.")
    reference_stale_s: float = Field(
        default=1.0,
        gt=0,
        description="A reference book not updated for this long (or resyncing) is stale: cycles quote "
        "base quotes (fallback reference_stale) until it is fresh again.",
    )

    @field_validator("instance_id")
    @classmethod
    def _instance_id(cls, value: str) -> str:
        if not INSTANCE_ID.match(value):
            raise ValueError(f"instance_id {value!r}: expected 1-16 letters or digits")
        return value

    @field_validator("markets")
    @classmethod
    def _markets(cls, value: list[str]) -> list[str]:
        if not value or len(set(value)) != len(value):
            raise ValueError("markets: expected a non-empty list of distinct market names")
        return value
