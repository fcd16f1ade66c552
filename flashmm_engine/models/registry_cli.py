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

from flashmm_engine.cli_support import emit, start_command
from flashmm_engine.config.settings import Settings
from flashmm_engine.db.engine import store_errors
from flashmm_engine.errors import CommandFailed
from flashmm_engine.models.registry import ModelRegistry, ModelVersion, RegistryError, Stage, Transition
from flashmm_engine.models.registry_stream import publish

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
        "via": list(transition.via),
    }


@contextmanager
def open_registry(settings: Settings) -> Iterator[ModelRegistry]:
    url = settings.database.resolved_url
    with store_errors(url):
        registry = ModelRegistry(url)
    try:
        yield registry
    finally:
        registry.close()


def run(operation: Callable[[ModelRegistry], dict[str, Any]]) -> None:
    with open_registry(start_command()) as registry:
        try:
            with store_errors(str(registry.engine.url)):
                payload = operation(registry)
        except RegistryError as exc:
            raise CommandFailed(str(exc)) from exc
    emit(payload)


def run_transition(operation: Callable[[ModelRegistry], Transition]) -> None:
    """A stage change; a new production version is then announced on the Redis stream (when
    configured) so engines reload now rather than at their next registry poll: `announced` is the
    stream entry id, or null (no Redis, or not reachable: a warning on stderr, the change stands)."""
    settings = start_command()
    with open_registry(settings) as registry:
        try:
            with store_errors(str(registry.engine.url)):
                transition = operation(registry)
        except RegistryError as exc:
            raise CommandFailed(str(exc)) from exc
    payload = transition_json(transition)
    redis_url = settings.redis.url
    announced = None
    if transition.model.stage == "production" and redis_url is not None:
        r = settings.reload
        announced = publish(redis_url.get_secret_value(), r.stream, r.stream_maxlen, transition.model)
    emit({**payload, "announced": announced})


@click.command("list")
@click.option("--name", default=None, help="Only this model name.")
def list_models(name: str | None) -> None:
    """Registered versions, oldest first per name: {"models": [...]}."""
    run(lambda registry: {"models": [version_json(v) for v in registry.list(name)]})


@click.command("promote")
@click.argument("name")
@click.argument("version")
@click.option(
    "--stage",
    type=PROMOTABLE,
    default=None,
    help="Target stage (default: the next one, candidate -> validated -> production); a later stage is "
    "reached through the ones between in one transaction, listed in `via`.",
)
def promote(name: str, version: str, stage: str | None) -> None:
    """Move NAME/VERSION forward; to production retires the current production version."""
    run_transition(lambda registry: registry.advance(name, version, cast("Stage | None", stage)))


@click.command("rollback")
@click.argument("name")
def rollback(name: str) -> None:
    """Retire NAME's production version and restore the previously promoted one."""
    run_transition(lambda registry: registry.rollback(name))
