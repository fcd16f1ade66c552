"""Settings for the SQL store, Redis, metrics and error reporting.

Every URL or DSN that can carry a password is a `SecretStr`; log it through `telemetry.redact.redact_url`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, SecretStr, field_validator

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SQL_URL = re.compile(r"^(sqlite|postgresql)(\+[a-z0-9_]+)?://", re.IGNORECASE)
_REDIS_URL = re.compile(r"^(redis|rediss|unix)://", re.IGNORECASE)
_HTTP_URL = re.compile(r"^https?://[^/?#]+", re.IGNORECASE)


class DatabaseSettings(BaseModel):
    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the SQL store (ledger, registry, events); unset = "
        "sqlite:///$FLASHMM_HOME/flashmm.db. PostgreSQL: postgresql+psycopg://user@127.0.0.1:5432/flashmm",
    )

    @field_validator("url")
    @classmethod
    def _sql_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not _SQL_URL.match(url.get_secret_value()):
            raise ValueError(
                "not a SQL store URL: expected sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
            )
        return url

    @property
    def resolved_url(self) -> str:
        """The URL to connect with; `Settings` fills the default, so it is always set after loading."""
        if self.url is None:
            raise RuntimeError("database.url is resolved by Settings; build settings with load_settings()")
        return self.url.get_secret_value()


class RedisSettings(BaseModel):
    url: SecretStr | None = Field(
        default=None, description="Redis URL for hot state and the model stream; unset = no Redis."
    )
    hot_state_hz: float = Field(
        default=4.0,
        ge=0.5,
        le=20.0,
        description="Hot-state writes to Redis per second (all markets, one pipeline).",
    )
    hot_state_ttl_s: float = Field(
        default=10.0, gt=0, description="TTL of every hot-state key: a stopped engine's state expires."
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not _REDIS_URL.match(url.get_secret_value()):
            raise ValueError("not a Redis URL: expected redis://[:PASSWORD@]HOST:PORT/DB or rediss://...")
        return url


class TelemetrySettings(BaseModel):
    log_level: str = Field(default="INFO", description="Root log level: DEBUG, INFO, WARNING, ERROR.")
    log_json: bool = Field(default=False, description="One JSON object per log line instead of text.")
    sentry_dsn: SecretStr | None = Field(default=None, description="Sentry DSN; unset = Sentry off.")
    influx_url: SecretStr | None = Field(default=None, description="InfluxDB 2.x write URL; unset = off.")
    influx_token: SecretStr | None = Field(default=None, description="InfluxDB token.")
    influx_org: str = Field(default="flashmm", description="InfluxDB organisation.")
    influx_bucket: str = Field(default="flashmm", description="InfluxDB bucket.")
    influx_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between InfluxDB samples and batched writes."
    )
    influx_queue_max: int = Field(
        default=10_000, ge=1, description="Points queued for InfluxDB at most; the oldest is dropped beyond."
    )
    sentry_environment: str = Field(default="paper", description="Sentry environment tag of every event.")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        upper = level.strip().upper()
        if upper not in LOG_LEVELS:
            raise ValueError(f"unknown log level: expected one of {', '.join(LOG_LEVELS)}")
        return upper

    @field_validator("influx_url")
    @classmethod
    def _http_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not _HTTP_URL.match(url.get_secret_value()):
            raise ValueError("not an InfluxDB URL: expected http(s)://HOST:PORT")
        return url
