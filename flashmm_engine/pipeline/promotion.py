"""Promotion of a validated candidate, and the announcement engines hot-reload from.

The registry row is the truth (the engine polls it); the Redis stream entry `{name, version, path, sha256}`
(models/registry_stream.py, the same announcement `model promote` makes) only tells engines to look now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flashmm_engine.models.registry import ModelRegistry, ModelVersion, RegistryError

log = logging.getLogger(__name__)


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
