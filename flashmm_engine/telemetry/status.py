"""Typed snapshots of the engine's telemetry parts, for `/status` (`EngineStatus.telemetry`) and `/metrics`.

Every value is a flag, a counter, a host or path, or an error's type and text with secrets already masked.
A part that is not configured is None.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RedisStatus:
    degraded: bool
    degraded_since_ns: int | None
    writes: int
    write_failures: int
    reconnects: int
    """Recoveries: writes that succeeded after the engine was degraded."""
    last_error: str | None


@dataclass(frozen=True, slots=True)
class InfluxStatus:
    queued: int
    points_written: int
    dropped_points: int
    writes: int
    write_failures: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class SentryStatus:
    host: str
    events_sent: int
    breadcrumbs: int


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    directory: str
    lines: int
    segments: tuple[str, ...]
    write_failures: int
    unknown_market: int
    """Messages naming a market the venue never announced (not recorded)."""


@dataclass(frozen=True, slots=True)
class TelemetryStatus:
    degraded: bool
    """Redis hot state is configured and not taking writes; trading goes on."""
    redis: RedisStatus | None = None
    influx: InfluxStatus | None = None
    sentry: SentryStatus | None = None
    recording: RecordingStatus | None = None
