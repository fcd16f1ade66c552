"""The model registry: table model_versions, stages candidate -> validated -> production -> retired.

The database enforces at most one production version per name (a partial unique index), so racing
promotions can fail and retry but can never leave two production rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from flashmm_engine.db.engine import make_engine
from flashmm_engine.db.migrate import upgrade_to_head

log = logging.getLogger(__name__)

Stage = Literal["candidate", "validated", "production", "retired"]
STAGE_ORDER: tuple[Stage, ...] = ("candidate", "validated", "production")
"""The forward path of a version; `advance` walks it one stage at a time."""
PROMOTE_ATTEMPTS = 8
ALLOWED: dict[str, frozenset[str]] = {
    "candidate": frozenset({"validated", "retired"}),
    "validated": frozenset({"production", "retired"}),
    "production": frozenset({"retired"}),
    "retired": frozenset({"production"}),  # only through rollback
}

metadata = sa.MetaData()
model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("metrics", sa.JSON, nullable=False),
)


class RegistryError(RuntimeError):
    """A registry operation is not allowed (unknown version, illegal stage change, nothing to roll back)."""


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    version: str
    path: str
    sha256: str
    stage: str
    created_at: datetime
    promoted_at: datetime | None
    metrics: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of a promotion or rollback: the version moved, and the production version it retired."""

    model: ModelVersion
    previous_stage: str
    retired: ModelVersion | None
    via: tuple[str, ...] = ()
    """Stages passed through on the way, in order (`advance` to production from candidate: validated)."""


class ModelRegistry:
    def __init__(self, url: str, migrate: bool = True) -> None:
        if migrate:
            upgrade_to_head(url)
        self.engine = make_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def register(
        self, name: str, version: str, path: str, sha256: str, metrics: dict[str, Any]
    ) -> ModelVersion:
        row = {
            "name": name,
            "version": version,
            "path": path,
            "sha256": sha256,
            "stage": "candidate",
            "created_at": datetime.now(UTC),
            "promoted_at": None,
            "metrics": metrics,
        }
        with self.engine.begin() as conn:
            conn.execute(model_versions.insert().values(**row))
        return self.get(name, version)

    def get(self, name: str, version: str) -> ModelVersion:
        with self.engine.connect() as conn:
            row = conn.execute(_select().where(_key(name, version))).first()
        if row is None:
            raise RegistryError(f"no model {name}/{version}")
        return _to_version(row)

    def list(self, name: str | None = None) -> list[ModelVersion]:
        query = _select().order_by(model_versions.c.name, model_versions.c.created_at, model_versions.c.id)
        if name is not None:
            query = query.where(model_versions.c.name == name)
        with self.engine.connect() as conn:
            return [_to_version(row) for row in conn.execute(query)]

    def production(self, name: str) -> ModelVersion | None:
        with self.engine.connect() as conn:
            row = conn.execute(_select().where(_in_production(name))).first()
        return None if row is None else _to_version(row)

    def latest(self, name: str, stage: Stage) -> ModelVersion | None:
        """The most recently created version of `name` in `stage` (the shadow's default challenger)."""
        query = (
            _select()
            .where(model_versions.c.name == name, model_versions.c.stage == stage)
            .order_by(model_versions.c.created_at.desc(), model_versions.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _to_version(row)

    def promote(self, name: str, version: str, stage: Stage) -> Transition:
        """Move a version to `stage`; promoting to production retires the current production version."""
        return self._with_retry(lambda conn: self._promote(conn, name, version, stage, rollback=False))

    def advance(self, name: str, version: str, target: Stage | None = None) -> Transition:
        """Move a version forward along STAGE_ORDER: to the next stage (target None), or to `target`
        through every stage between, in one transaction; `Transition.via` names the ones passed."""
        return self._with_retry(lambda conn: self._advance(conn, name, version, target))

    def rollback(self, name: str) -> Transition:
        """Retire the production version and restore the most recently promoted retired one."""
        return self._with_retry(lambda conn: self._rollback(conn, name))

    def _with_retry(self, operation: Any) -> Transition:
        for attempt in range(1, PROMOTE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    result: Transition = operation(conn)
                return result
            except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
                # a concurrent promotion won the race for the production slot; re-read and retry
                if attempt == PROMOTE_ATTEMPTS:
                    raise RegistryError(f"promotion kept conflicting after {attempt} attempts") from exc
                log.info("registry conflict, retrying (%d): %s", attempt, type(exc.orig).__name__)
        raise AssertionError("unreachable")

    def _promote(
        self, conn: sa.Connection, name: str, version: str, stage: str, rollback: bool
    ) -> Transition:
        row = conn.execute(_select().where(_key(name, version)).with_for_update()).first()
        if row is None:
            raise RegistryError(f"no model {name}/{version}")
        if stage not in ALLOWED[row.stage] or (row.stage == "retired" and not rollback):
            raise RegistryError(f"{name}/{version}: cannot go from {row.stage} to {stage}")
        now = datetime.now(UTC)
        retired = None
        if stage == "production":
            current = conn.execute(_select().where(_in_production(name)).with_for_update()).first()
            conn.execute(model_versions.update().where(_in_production(name)).values(stage="retired"))
            retired = None if current is None else replace(_to_version(current), stage="retired")
        values: dict[str, Any] = {"stage": stage}
        if stage == "production" and not rollback:
            # a rollback keeps the original promotion time, so repeated rollbacks walk further back
            values["promoted_at"] = now
        conn.execute(model_versions.update().where(_key(name, version)).values(**values))
        log.info("model %s/%s: %s -> %s", name, version, row.stage, stage)
        moved = _to_version(conn.execute(_select().where(_key(name, version))).one())
        return Transition(moved, row.stage, retired)

    def _advance(self, conn: sa.Connection, name: str, version: str, target: Stage | None) -> Transition:
        row = conn.execute(_select().where(_key(name, version)).with_for_update()).first()
        if row is None:
            raise RegistryError(f"no model {name}/{version}")
        if row.stage not in STAGE_ORDER:
            raise RegistryError(f"{name}/{version} is {row.stage}; only `model rollback` brings it back")
        here = STAGE_ORDER.index(row.stage)
        if target is None and here == len(STAGE_ORDER) - 1:
            raise RegistryError(f"{name}/{version} is already in production; nothing to promote to")
        there = here + 1 if target is None else STAGE_ORDER.index(target) if target in STAGE_ORDER else -1
        if there <= here:
            raise RegistryError(
                f"{name}/{version}: cannot go from {row.stage} to {target}; stages go "
                + " -> ".join(STAGE_ORDER)
            )
        steps = STAGE_ORDER[here + 1 : there + 1]
        retired = None
        for stage in steps:
            step = self._promote(conn, name, version, stage, rollback=False)
            retired = step.retired or retired
        return Transition(step.model, row.stage, retired, via=steps[:-1])

    def _rollback(self, conn: sa.Connection, name: str) -> Transition:
        current = conn.execute(_select().where(_in_production(name)).with_for_update()).first()
        previous_query = _select().where(
            model_versions.c.name == name,
            model_versions.c.stage == "retired",
            model_versions.c.promoted_at.is_not(None),
        )
        if current is not None:
            previous_query = previous_query.where(model_versions.c.promoted_at < current.promoted_at)
        previous = conn.execute(previous_query.order_by(model_versions.c.promoted_at.desc()).limit(1)).first()
        if previous is None:
            raise RegistryError(f"{name}: no previously promoted version to roll back to")
        return self._promote(conn, name, previous.version, "production", rollback=True)


def _select() -> sa.Select[Any]:
    return sa.select(model_versions)


def _key(name: str, version: str) -> sa.ColumnElement[bool]:
    return sa.and_(model_versions.c.name == name, model_versions.c.version == version)


def _in_production(name: str) -> sa.ColumnElement[bool]:
    return sa.and_(model_versions.c.name == name, model_versions.c.stage == "production")


def _to_version(row: sa.Row[Any]) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=row.version,
        path=row.path,
        sha256=row.sha256,
        stage=row.stage,
        created_at=_utc(row.created_at),
        promoted_at=None if row.promoted_at is None else _utc(row.promoted_at),
        metrics=dict(row.metrics),
    )


def _utc(moment: datetime) -> datetime:
    """Times are written in UTC; SQLite hands them back naive, PostgreSQL aware: make both aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
