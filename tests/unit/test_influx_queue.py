"""InfluxDB writer's queue and line protocol, without a server: a full queue drops its oldest point and
counts it; a write to a port nobody listens on is counted, keeps the points and logs no token."""

import logging
import socket

import pytest
from pydantic import SecretStr

from flashmm_engine.telemetry.influx import InfluxWriter, _escape_tag, _field
from flashmm_engine.telemetry.redact import SecretScrubber

TOKEN = "tok-must-not-appear"


def writer(port: int, queue_max: int) -> InfluxWriter:
    return InfluxWriter(
        SecretStr(f"http://127.0.0.1:{port}"),
        SecretStr(TOKEN),
        "org",
        "bucket",
        "e1",
        list,
        1.0,
        queue_max,
        SecretScrubber([TOKEN]),
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_full_queue_drops_the_oldest_point_and_counts_it() -> None:
    w = writer(closed_port(), 3)
    for i in range(5):
        w.submit(f"m v={i}i {i}")
    assert list(w.queue) == ["m v=2i 2", "m v=3i 3", "m v=4i 4"]
    assert w.dropped_points == 2 and w.points_queued == 5


async def test_a_failed_write_is_counted_keeps_its_points_and_logs_no_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    w = writer(closed_port(), 10)
    w.submit("m v=1i 1")
    assert await w.flush() is False
    assert w.write_failures == 1 and len(w.queue) == 1 and w.points_written == 0
    assert w.last_error is not None and TOKEN not in w.last_error
    assert TOKEN not in caplog.text and "InfluxDB write failed" in caplog.text
    await w.close()


def test_line_protocol_escapes_tags_and_types_fields() -> None:
    assert _escape_tag("SIM:ETH USD,x=y") == r"SIM:ETH\ USD\,x\=y"
    assert (_field(3), _field(1.5), _field(True), _field('a"b')) == ("3i", "1.5", "true", '"a\\"b"')
