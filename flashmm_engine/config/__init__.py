"""Settings: one pydantic-settings object, env prefix FLASHMM_, nested keys joined by '__'."""

from flashmm_engine.config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
