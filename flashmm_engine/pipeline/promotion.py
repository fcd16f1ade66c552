"""Promotion of a validated candidate, and the announcement engines hot-reload from.

The registry row is the truth (the engine polls it); the Redis stream entry `{name, version, path, sha256}`
only tells engines to look now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flashmm_engine.models.registry import ModelRegistry, ModelVersion, RegistryError

log = logging.getLogger(__name__)

MODEL_STREAM = "flashmm:models"
STREAM_MAXLEN = 1_000
REDIS_TIMEOUT_S = 2.0


class PromotionRefused(RuntimeError):
    """The candidate may not go to production (validation failed, or the registry refused the change)."""


@dataclass(frozen=True, slots=True)
class Promotion:
    model: ModelVersion
    retired: ModelVersion | None
    already: bool


def promote(registry_url: str, name: str, version: str, validation_passed: bool) -> Promotion:
    if not validation_passed:
        raise PromotionRefused(f"{name}/{version}: validation did not pass; production is unchanged")
    registry = ModelRegistry(registry_url)
    try:
        current = registry.get(name, version)
        if current.stage == "production":
            return Promotion(current, None, already=True)
        try:
            moved = registry.advance(name, version, "production")
        except RegistryError as exc:
            raise PromotionRefused(str(exc)) from exc
        return Promotion(moved.model, moved.retired, already=False)
    finally:
        registry.close()


def production_version(registry_url: str, name: str) -> ModelVersion | None:
    registry = ModelRegistry(registry_url)
    try:
        return registry.production(name)
    finally:
        registry.close()


def stream_message(model: ModelVersion) -> dict[str, str]:
    return {"name": model.name, "version": model.version, "path": model.path, "sha256": model.sha256}


def publish(redis_url: str, model: ModelVersion, stream: str = MODEL_STREAM) -> str:
    """XADD the production version; raises on a Redis error (the caller decides how to report it)."""
    import redis

    client = redis.Redis.from_url(
        redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    try:
        entry = client.xadd(stream, stream_message(model), maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
    finally:
        client.close()
    return entry.decode() if isinstance(entry, bytes) else str(entry)
