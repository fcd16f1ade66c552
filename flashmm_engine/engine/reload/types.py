"""What the reload machinery reports: the typed snapshot behind the engine's status."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model version to serve, as the registry (or a stream message) names it."""

    name: str
    version: str
    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Refusal:
    version: str
    sha256: str
    reason: str
    """The refusal's class: ChecksumMismatch, SpecMismatch, ArtifactLoadError, ProbeError, TooSlow, ..."""
    message: str
    source: str
    """What asked for the version: start, poll, stream."""
    ts_ns: int


@dataclass(frozen=True, slots=True)
class StreamStatus:
    degraded: bool
    """True while Redis cannot be reached (the registry poll still reloads)."""
    connected_once: bool
    reconnects: int
    errors: int
    messages: int
    malformed: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ShadowStatus:
    version: str | None
    predictions: int
    skipped_over_budget: int
    errors: int
    rows_written: int
    rows_dropped: int
    write_errors: int
    refusals: int


@dataclass(frozen=True, slots=True)
class ModelStatus:
    name: str | None
    version: str | None
    """The version every market predicts with now; None = plain base quotes."""
    sha256: str | None
    loaded_at_ns: int | None
    created_at: str | None
    """The artifact's creation time (manifest), ISO 8601."""
    source: str | None
    reloads: int
    refusals: int
    refusals_by_reason: dict[str, int] = field(default_factory=dict)
    last_refusal: Refusal | None = None
    polls: int = 0
    poll_errors: int = 0
    last_poll_ns: int | None = None
    poll_interval_s: float | None = None
    stream: StreamStatus | None = None
    """None when Redis is not configured."""
    shadow: ShadowStatus | None = None
