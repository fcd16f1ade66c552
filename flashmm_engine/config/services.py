"""Settings for the SQL store, Redis, metrics and error reporting."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class DatabaseSettings(BaseModel):
    url: str = Field(
        default="sqlite:///var/flashmm.db",
        description="SQLAlchemy URL of the SQL store (ledger, registry, events). "
        "PostgreSQL: postgresql+psycopg://user@127.0.0.1:5432/flashmm",
    )


class RedisSettings(BaseModel):
    url: str | None = Field(
        default=None, description="Redis URL for hot state and the model stream; unset = no Redis."
    )


class TelemetrySettings(BaseModel):
    log_level: str = Field(default="INFO", description="Root log level.")
    log_json: bool = Field(default=False, description="One JSON object per log line instead of text.")
    sentry_dsn: SecretStr | None = Field(default=None, description="Sentry DSN; unset = Sentry off.")
    influx_url: str | None = Field(default=None, description="InfluxDB 2.x write URL; unset = off.")
    influx_token: SecretStr | None = Field(default=None, description="InfluxDB token.")
    influx_org: str = Field(default="flashmm", description="InfluxDB organisation.")
    influx_bucket: str = Field(default="flashmm", description="InfluxDB bucket.")
