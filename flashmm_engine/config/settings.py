"""The root settings object. Validation runs at start so bad config fails early and clearly."""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from flashmm_engine.config.control import ControlSettings
from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.marketdata import BinanceSettings, RecorderSettings
from flashmm_engine.config.models import ModelSettings
from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.config.services import DatabaseSettings, RedisSettings, TelemetrySettings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.config.trading import QuotingSettings, RiskSettings


class ConfigError(RuntimeError):
    """Settings failed validation; the message names every bad key and never echoes secrets."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLASHMM_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="forbid",
        secrets_dir=None,
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    control: ControlSettings = Field(default_factory=ControlSettings)
    binance: BinanceSettings = Field(default_factory=BinanceSettings)
    recorder: RecorderSettings = Field(default_factory=RecorderSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    sei: SeiSettings = Field(default_factory=SeiSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    quoting: QuotingSettings = Field(default_factory=QuotingSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    # input values are left out on purpose: they may be secrets
    problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
    return "invalid FlashMM settings:\n  " + "\n  ".join(problems)
