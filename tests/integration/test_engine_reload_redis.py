"""Redis and hot reload, against a throwaway redis-server: an entry handed out but never acknowledged is
re-delivered to the restarted consumer; Redis restarted (empty) in the middle of a 5 Hz run leaves the
engine trading and degraded, it reconnects, and the version promoted during the outage is served."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from click.testing import CliRunner

from flashmm_engine import cli as cli_module
from flashmm_engine.config.reload import ReloadSettings
from flashmm_engine.engine.reload.stream import ModelStreamConsumer
from flashmm_engine.engine.reload.types import StreamStatus
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.models.registry import ModelRegistry
from flashmm_engine.models.registry_stream import parse_message
from tests import reload_models
from tests.e2e.supervised import free_port
from tests.integration.reload_support import (
    CLI,
    NAME,
    Env,
    redis_server,
    runner_of,
    running_engine,
    served,
    wait_until,
)

STREAM_S = 15.0
OUTAGE_S = 60.0
MESSAGE = {"name": NAME, "version": "v9", "path": "/nowhere", "sha256": "ab" * 32}


async def test_an_unacknowledged_entry_is_redelivered_after_a_restart(tmp_path: Path) -> None:
    settings = ReloadSettings(stream_block_ms=100)
    with redis_server(tmp_path) as server:
        handed: list[dict[str, str]] = []
        never = asyncio.Event()

        async def crash_while_handling(message: dict[str, str]) -> None:
            handed.append(message)
            await never.wait()  # the engine dies here: cancelled before the acknowledgement

        first = ModelStreamConsumer(server.url, settings, "engine-e1", "e1", crash_while_handling)
        stop = asyncio.Event()
        task = asyncio.create_task(first.run(stop))
        await wait_until("group created", lambda: first.connected_once, 10)
        redis.Redis.from_url(server.url).xadd(settings.stream, MESSAGE)  # type: ignore[arg-type]
        await wait_until("entry handed out", lambda: len(handed) == 1, STREAM_S)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pending = redis.Redis.from_url(server.url).xpending(settings.stream, "engine-e1")
        assert pending["pending"] == 1

        again: list[dict[str, str]] = []

        async def handle(message: dict[str, str]) -> None:
            again.append(message)

        second = ModelStreamConsumer(server.url, settings, "engine-e1", "e1", handle)
        task = asyncio.create_task(second.run(stop))
        await wait_until("entry re-delivered", lambda: len(again) == 1, STREAM_S)
        await wait_until(
            "entry acknowledged",
            lambda: redis.Redis.from_url(server.url).xpending(settings.stream, "engine-e1")["pending"] == 0,
            STREAM_S,
        )
        stop.set()
        await task
    assert handed == again == [MESSAGE]


async def test_redis_restarted_mid_run_degrades_reconnects_and_serves_what_was_promoted(
    tmp_path: Path,
) -> None:
    env = Env(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", None)
    root = tmp_path / "models"
    for version, stage in (("v1", "production"), ("v2", "validated"), ("v3", "validated")):
        model_dir = reload_models.export_good(root, NAME, version, int(version[1]))
        reload_models.register(env.registry_url, NAME, version, model_dir, stage)
    with redis_server(tmp_path) as server:
        env.redis_url = server.url
        # the registry poll is far off: what is picked up comes from the stream or the reconnect
        reload = ReloadSettings(poll_interval_s=600, stream_block_ms=200, reconnect_max_s=1.0)
        async with running_engine(env, reload) as runtime:
            await wait_until("stream consumer", lambda: stream(runtime).connected_once, 30)
            runner = runner_of(runtime)

            server.stop()
            await wait_until("degraded", lambda: stream(runtime).degraded, OUTAGE_S)
            batches = runner.stats.batches
            await wait_until("trading through the outage", lambda: runner.stats.batches > batches + 5, 30)
            promoted = await env.model("promote", NAME, "v2", "--stage", "production")
            assert promoted["announced"] is None and "not announced on Redis" in promoted["_stderr"]
            assert served(runtime) == "v1"

            server.start()  # same port, empty: no stream, no group
            await wait_until("reconnected", lambda: not stream(runtime).degraded, OUTAGE_S)
            await wait_until("v2 served", lambda: served(runtime) == "v2", STREAM_S)
            status = runtime.model_status()
            assert status.source == "reconnect"
            assert stream(runtime).reconnects >= 1 and stream(runtime).errors >= 1

            promoted = await env.model("promote", NAME, "v3", "--stage", "production")
            assert promoted["announced"] is not None
            await wait_until("v3 over the new stream", lambda: served(runtime) == "v3", STREAM_S)
            assert runtime.model_status().source == "stream"
            assert not runtime.tasks.failures


def stream(runtime: EngineRuntime) -> StreamStatus:
    status = runtime.model_status().stream
    assert status is not None
    return status


def test_promote_and_rollback_announce_the_production_version_on_the_stream(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("FLASHMM_DATABASE__URL", registry_url)
    monkeypatch.setenv("FLASHMM_REDIS__URL", redis_url)
    registry = ModelRegistry(registry_url)
    for version in ("v1", "v2"):
        registry.register(NAME, version, f"/models/{version}", version[1] * 64, {})
    registry.close()

    def model(*args: str) -> dict[str, Any]:
        result = CliRunner().invoke(cli_module.cli, ["model", *args])
        assert result.exit_code == 0, result.output
        payload: dict[str, Any] = orjson.loads(result.stdout)
        return payload

    assert model("promote", NAME, "v1")["announced"] is None  # to validated: nothing to serve yet
    first = model("promote", NAME, "v1")["announced"]
    model("promote", NAME, "v2", "--stage", "production")
    last = model("rollback", NAME)["announced"]
    entries = redis.Redis.from_url(redis_url).xrange(ReloadSettings().stream)
    assert (entries[0][0].decode(), entries[-1][0].decode()) == (first, last)
    assert [parse_message(fields) for _, fields in entries] == [
        {"name": NAME, "version": v, "path": f"/models/{v}", "sha256": v[1] * 64} for v in ("v1", "v2", "v1")
    ]


def test_announcing_at_debug_never_logs_the_redis_password(tmp_path: Path) -> None:
    password = "reload-redis-secret-9f3"
    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    registry = ModelRegistry(registry_url)
    for version in ("v1", "v2"):
        registry.register(NAME, version, f"/models/{version}", "cd" * 32, {})
        registry.advance(NAME, version, "validated")
    registry.close()
    with redis_server(tmp_path, password) as server:
        base = {
            **os.environ,
            "FLASHMM_DATABASE__URL": registry_url,
            "FLASHMM_TELEMETRY__LOG_LEVEL": "DEBUG",
            "FLASHMM_HOME": str(tmp_path),
        }
        reachable = f"redis://:{password}@127.0.0.1:{server.port}/0"
        unreachable = f"redis://:{password}@127.0.0.1:{free_port()}/0"
        outputs = []
        for version, url in (("v1", reachable), ("v2", unreachable)):
            done = subprocess.run(
                [str(CLI), "model", "promote", NAME, version],
                capture_output=True,
                text=True,
                env={**base, "FLASHMM_REDIS__URL": url},
                timeout=120,
            )
            assert done.returncode == 0, done.stderr[-2000:]
            outputs.append((orjson.loads(done.stdout)["announced"], done.stdout + done.stderr))
    (first, first_text), (second, second_text) = outputs
    assert first is not None and second is None and "not announced on Redis" in second_text
    assert " DEBUG " in first_text
    assert password not in first_text + second_text
