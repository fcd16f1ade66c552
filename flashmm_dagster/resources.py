"""The one resource every asset uses: FlashMM's settings (env `FLASHMM_*`, overridable per deployment in
the UI's launchpad), and the paths and services derived from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from flashmm_engine.config.settings import Settings
from flashmm_engine.pipeline.layout import Layout
from flashmm_engine.pipeline.segments import with_venue_folders


class FlashmmResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """FlashMM settings for the lifecycle. Unset fields keep the `FLASHMM_*` environment's value."""

    home: str | None = Field(default=None, description="FLASHMM_HOME override.")
    database_url: str | None = Field(default=None, description="SQL store (ledger, registry) override.")
    redis_url: str | None = Field(default=None, description="Redis for the model stream; unset = env/none.")
    control_url: str | None = Field(default=None, description="Engine control API (default 127.0.0.1:8787).")
    pipeline_root: str | None = Field(default=None, description="Lifecycle data folder override.")
    drop_dirs: list[str] | None = Field(default=None, description="Capture drop folders override.")

    def settings(self) -> Settings:
        overrides: dict[str, Any] = {}
        if self.home:
            overrides["home"] = Path(self.home)
        if self.database_url:
            overrides["database"] = {"url": self.database_url}
        if self.redis_url:
            overrides["redis"] = {"url": self.redis_url}
        base = Settings(**overrides)
        if self.pipeline_root:
            base.pipeline.root = Path(self.pipeline_root).absolute()
        if self.drop_dirs is not None:
            base.pipeline.drop_dirs = [Path(d).absolute() for d in self.drop_dirs]
        if self.control_url:
            base.pipeline.control_url = self.control_url
        return base

    def layout(self) -> Layout:
        return Layout(self.settings().pipeline.root)

    def raw_dirs(self) -> list[Path]:
        """The recorder's directory with its per-venue folders (`<directory>/<venue>/`), and the drop
        folders."""
        settings = self.settings()
        return [*with_venue_folders(settings.recorder.directory), *settings.pipeline.drop_dirs]

    def database(self) -> str:
        return self.settings().database.resolved_url

    def redis(self) -> str | None:
        url = self.settings().redis.url
        return None if url is None else url.get_secret_value()
