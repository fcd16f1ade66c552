"""Prometheus families for the telemetry parts (`TelemetryStatus`), read from the same snapshot as the rest
of `/metrics`: the degraded flag, Redis, InfluxDB, Sentry and recording counters. A part that is not
configured yields no samples."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from flashmm_engine.telemetry.status import TelemetryStatus


def telemetry_metrics(prefix: str, status: TelemetryStatus | None) -> Iterator[Metric]:
    degraded = GaugeMetricFamily(f"{prefix}_degraded", "1 while Redis hot state takes no writes.")
    if status is None:
        yield degraded
        return
    degraded.add_metric([], int(status.degraded))
    yield degraded
    redis, influx, sentry, recording = status.redis, status.influx, status.sentry, status.recording
    families: list[tuple[str, str, int | None]] = [
        ("redis_writes", "Hot-state pipelines Redis took.", None if redis is None else redis.writes),
        (
            "redis_write_failures",
            "Hot-state writes Redis did not take.",
            None if redis is None else redis.write_failures,
        ),
        ("redis_reconnects", "Recoveries from a Redis outage.", None if redis is None else redis.reconnects),
        ("influx_points_written", "Points InfluxDB took.", None if influx is None else influx.points_written),
        (
            "influx_write_failures",
            "InfluxDB writes that failed.",
            None if influx is None else influx.write_failures,
        ),
        (
            "influx_dropped_points",
            "Points dropped from the full queue.",
            None if influx is None else influx.dropped_points,
        ),
        (
            "sentry_events",
            "Events handed to Sentry (after scrubbing).",
            None if sentry is None else sentry.events_sent,
        ),
        (
            "recorded_messages",
            "Market-data messages written to raw segments.",
            None if recording is None else recording.lines,
        ),
        (
            "recording_write_failures",
            "Raw segment writes that failed.",
            None if recording is None else recording.write_failures,
        ),
    ]
    for name, doc, value in families:
        family = CounterMetricFamily(f"{prefix}_{name}", doc)
        if value is not None:
            family.add_metric([], value)
        yield family
    queued = GaugeMetricFamily(f"{prefix}_influx_queued_points", "Points waiting for InfluxDB.")
    if influx is not None:
        queued.add_metric([], influx.queued)
    yield queued
