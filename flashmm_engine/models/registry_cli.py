"""`flashmm model list|promote|rollback`: the registry from the command line, one JSON object each.

The registry DB is the SQL store from settings (FLASHMM_DATABASE__URL); a refused operation (unknown
version, illegal stage change, nothing to roll back) exits with status 1 and the reason on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import click
import orjson

from flashmm_engine.config.settings import load_settings
from flashmm_engine.models.registry import ModelRegistry, ModelVersion, RegistryError, Stage, Transition
from flashmm_engine.telemetry.logs import configure_logging

PROMOTABLE = click.Choice(["validated", "production"])


def version_json(version: ModelVersion, with_metrics: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": version.name,
        "version": version.version,
        "stage": version.stage,
        "path": version.path,
        "sha256": version.sha256,
        "created_at": version.created_at.isoformat(),
        "promoted_at": None if version.promoted_at is None else version.promoted_at.isoformat(),
    }
    if with_metrics:
        out["metrics"] = version.metrics
    return out


def transition_json(transition: Transition) -> dict[str, Any]:
    return {
        **version_json(transition.model, with_metrics=False),
        "previous_stage": transition.previous_stage,
        "retired": None if transition.retired is None else transition.retired.version,
    }


@contextmanager
def open_registry() -> Iterator[ModelRegistry]:
    settings = load_settings()
    configure_logging(settings.telemetry.log_level, settings.telemetry.log_json)
    registry = ModelRegistry(settings.database.url)
    try:
        yield registry
    finally:
        registry.close()


def run(operation: Callable[[ModelRegistry], dict[str, Any]]) -> None:
    with open_registry() as registry:
        try:
            payload = operation(registry)
        except RegistryError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(orjson.dumps(payload).decode())


@click.command("list")
@click.option("--name", default=None, help="Only this model name.")
def list_models(name: str | None) -> None:
    """Registered versions, oldest first per name: {"models": [...]}."""
    run(lambda registry: {"models": [version_json(v) for v in registry.list(name)]})


@click.command("promote")
@click.argument("name")
@click.argument("version")
@click.option("--stage", type=PROMOTABLE, default="production", show_default=True)
def promote(name: str, version: str, stage: str) -> None:
    """Move NAME/VERSION to a stage; to production retires the current production version."""
    run(lambda registry: transition_json(registry.promote(name, version, cast("Stage", stage))))


@click.command("rollback")
@click.argument("name")
def rollback(name: str) -> None:
    """Retire NAME's production version and restore the previously promoted one."""
    run(lambda registry: transition_json(registry.rollback(name)))
