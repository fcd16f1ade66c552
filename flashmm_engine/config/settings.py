"""The root settings object. Validation runs at start so bad config fails early and clearly."""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from flashmm_engine.config.control import ControlSettings
from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.home import (
    DB_FILE,
    MODELS_DIR,
    PIPELINE_DIR,
    RAW_DIR,
    absolute,
    default_home,
    sqlite_url,
)
from flashmm_engine.config.marketdata import BinanceSettings, RecorderSettings
from flashmm_engine.config.models import ModelSettings
from flashmm_engine.config.pipeline import PipelineSettings
from flashmm_engine.config.reload import ReloadSettings
from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.config.services import DatabaseSettings, RedisSettings, TelemetrySettings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.config.trading import QuotingSettings, RiskSettings
from flashmm_engine.errors import InputError

ENV_PREFIX = "FLASHMM_"
ENV_DELIMITER = "__"


class ConfigError(InputError):
    """Settings failed validation; the one-line message names every bad key and never echoes values."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        env_file=".env",
        extra="forbid",
        secrets_dir=None,
    )

    home: Path | None = Field(
        default=None,
        description="Data directory of the default SQL store, artifacts and raw data; "
        "unset = $XDG_DATA_HOME/flashmm or ~/.local/share/flashmm.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    control: ControlSettings = Field(default_factory=ControlSettings)
    binance: BinanceSettings = Field(default_factory=BinanceSettings)
    recorder: RecorderSettings = Field(default_factory=RecorderSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    reload: ReloadSettings = Field(default_factory=ReloadSettings)
    sei: SeiSettings = Field(default_factory=SeiSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    quoting: QuotingSettings = Field(default_factory=QuotingSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)

    @model_validator(mode="after")
    def _anchor_paths(self) -> Settings:
        """Defaults live under FLASHMM_HOME; every path is absolute, so none depends on the cwd later."""
        home = absolute(self.home) if self.home is not None else default_home()
        self.home = home
        if self.database.url is None:
            self.database.url = SecretStr(sqlite_url(home / DB_FILE))
        else:
            self.database.url = SecretStr(_absolute_sqlite(self.database.url.get_secret_value()))
        self.models.artifacts_dir = _under(home, self.models, "artifacts_dir", MODELS_DIR)
        self.recorder.directory = _under(home, self.recorder, "directory", RAW_DIR)
        self.pipeline.root = _under(home, self.pipeline, "root", PIPELINE_DIR)
        self.pipeline.drop_dirs = [absolute(p) for p in self.pipeline.drop_dirs]
        if self.sim.capture is not None:
            self.sim.capture = absolute(self.sim.capture)
        return self

    @property
    def data_home(self) -> Path:
        if self.home is None:
            raise RuntimeError("Settings.home is set by validation")
        return self.home


def _under(home: Path, section: BaseModel, field: str, default_name: str) -> Path:
    if field not in section.model_fields_set:
        return home / default_name
    value: Path = getattr(section, field)
    return absolute(value)


def _absolute_sqlite(url: str) -> str:
    """A relative SQLite file path is anchored at the cwd now, so the store never moves with it."""
    from sqlalchemy.engine import make_url  # deferred: `flashmm --help` stays light

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - any parse failure is reported as a bad setting, value not echoed
        raise ConfigError(
            f"invalid FlashMM settings: {ENV_PREFIX}DATABASE{ENV_DELIMITER}URL: not a SQLAlchemy URL "
            "(expected sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB)"
        ) from None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return url
    return parsed.set(database=str(absolute(Path(parsed.database)))).render_as_string(hide_password=False)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except SettingsError as exc:
        raise ConfigError(_describe_parse_error(exc)) from None


def env_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + ENV_DELIMITER.join(str(part) for part in loc).upper()


def _describe(exc: ValidationError) -> str:
    # input values are left out on purpose: they may be secrets
    problems = [f"{env_name(_field_loc(err['loc']))}: {_message(err['msg'])}" for err in exc.errors()]
    return "invalid FlashMM settings: " + "; ".join(problems)


def _field_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The setting's own path: a dict entry's key (sim.api_keys.<account>) or list index is data."""
    model: type[BaseModel] | None = Settings
    path: list[int | str] = []
    for part in loc:
        info = model.model_fields.get(str(part)) if model is not None else None
        if info is None:
            break
        path.append(part)
        model = _model_of(info.annotation)
    return tuple(path) or loc


def _message(text: str) -> str:
    return " ".join(text.removeprefix("Value error, ").split())


def _describe_parse_error(exc: SettingsError) -> str:
    """pydantic-settings names only the top-level section of a value that is not JSON; find the key."""
    for name, value in os.environ.items():
        if not name.upper().startswith(ENV_PREFIX) or not _wants_json(name):
            continue
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            return (
                f"invalid FlashMM settings: {name.upper()}: not valid JSON (expected a JSON list or object)"
            )
    return f"invalid FlashMM settings: {exc}"


def _wants_json(env: str) -> bool:
    parts = env.upper().removeprefix(ENV_PREFIX).lower().split(ENV_DELIMITER)
    model: type[BaseModel] = Settings
    for index, part in enumerate(parts):
        info = model.model_fields.get(part)
        if info is None:
            return False
        nested = _model_of(info.annotation)
        if index == len(parts) - 1:
            return nested is not None or _is_container(info.annotation)
        if nested is None:
            return False
        model = nested
    return False


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _is_container(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_container(arg) for arg in typing.get_args(annotation))
    return origin in (dict, list, set, tuple)
