"""Shared parts of the hot-reload tests: a throwaway redis-server on a free port (restartable on the same
port), the engine in-process against the real sim venue process, and `flashmm model ...` as a real
subprocess (run without blocking the engine's event loop)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.reload import ReloadSettings
from flashmm_engine.config.services import DatabaseSettings, RedisSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.market_task import MarketRunner
from flashmm_engine.engine.runtime import EngineRuntime
from tests.e2e.supervised import free_port
from tests.integration.sim_process import sim_venue_process

KEY = "reload-engine-key"
MARKET = "SIM:ETHUSD"
NAME = "m"
START_S = 120.0
REDIS_START_S = 10.0
CLI = Path(sys.executable).parent / "flashmm"


class RedisServer:
    """redis-server --port P --save '' (nothing persisted: a restart comes back empty)."""

    def __init__(self, tmp: Path, password: str | None = None) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + REDIS_START_S
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@contextmanager
def redis_server(tmp: Path, password: str | None = None) -> Iterator[RedisServer]:
    server = RedisServer(tmp, password)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Env:
    tmp: Path
    registry_url: str
    redis_url: str | None

    def cli_env(self) -> dict[str, str]:
        env = {**os.environ, "FLASHMM_DATABASE__URL": self.registry_url}
        env.pop("FLASHMM_REDIS__URL", None)
        if self.redis_url is not None:
            env["FLASHMM_REDIS__URL"] = self.redis_url
        return env

    async def model(self, *args: str) -> dict[str, Any]:
        """`flashmm model ARGS` as a subprocess; its JSON (exit 0 required)."""
        proc = await asyncio.create_subprocess_exec(
            str(CLI),
            "model",
            *args,
            env=self.cli_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        payload: dict[str, Any] = orjson.loads(out)
        payload["_stderr"] = err.decode()
        return payload


def engine_settings(env: Env, venue_url: str, reload: ReloadSettings) -> Settings:
    return Settings(
        engine=EngineSettings(
            markets=[MARKET],
            sim_urls={MARKET: venue_url},
            ledger_url=SecretStr(f"sqlite:///{env.tmp / 'ledger.db'}"),
            model_name=NAME,
            reconcile_interval_s=2.0,
        ),
        sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
        database=DatabaseSettings(url=SecretStr(env.registry_url)),
        redis=RedisSettings(url=SecretStr(env.redis_url) if env.redis_url else None),
        reload=reload,
    )


@asynccontextmanager
async def running_engine(env: Env, reload: ReloadSettings) -> AsyncIterator[EngineRuntime]:
    venue_env = {"FLASHMM_SIM__PORT": "0", "FLASHMM_SIM__API_KEYS": orjson.dumps({"mm": KEY}).decode()}
    with sim_venue_process([], venue_env, env.tmp) as started:
        runtime = EngineRuntime(engine_settings(env, started["url"], reload), [MARKET])
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        try:
            await asyncio.wait_for(runtime.started.wait(), START_S)
            yield runtime
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
        assert not runtime.tasks.failures, runtime.tasks.failures


async def wait_until(what: str, check: Callable[[], bool], timeout_s: float) -> float:
    """Seconds it took until `check()` held; fails after `timeout_s`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def served(runtime: EngineRuntime) -> str | None:
    return runtime.model_status().version


def runner_of(runtime: EngineRuntime) -> MarketRunner:
    (runner,) = runtime.runners
    return runner


def cycles_around(runner: MarketRunner, at_ns: int, span_ns: int) -> list[tuple[int, int, int]]:
    return [c for c in runner.cycle_log if at_ns - span_ns <= c[0] <= at_ns + span_ns]
