"""Every secret set at once (sim API key, Sei mnemonic, control token, Sentry DSN, InfluxDB token, a Redis
password), and the engine driven through errors and refusals against real servers: an unfunded sim venue
(a reject storm halts the market), malformed venue frames injected on the wire, an InfluxDB that is down
(failed writes), and a production model whose artifact path is bad (refused by hot reload at start). No
secret appears in the captured logs (at DEBUG), in the envelopes a loopback Sentry stand-in received, in
the control API's /status JSON (and /metrics), or in any Redis key or value (hot state and the model
stream alike)."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
from pathlib import Path

import aiohttp
import orjson
import pytest
import redis
from pydantic import SecretStr

from flashmm_engine.config.control import ControlSettings
from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.marketdata import RecorderSettings
from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.config.services import DatabaseSettings, RedisSettings, TelemetrySettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.telemetry.logs import configure_logging
from flashmm_engine.types import TradingState
from tests.integration.sim_process import sim_venue_process
from tests.integration.telemetry_support import (
    RedisServer,
    free_port,
    sentry_ingest,
    wait_until,
)
from tests.integration.test_engine_bad_input import injecting_proxy

SIM_KEY = "sim-key-5c1f0e9a7b3d"
MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
CONTROL_TOKEN = "control-token-2b7e151628aed2a6"
SENTRY_KEY = "f00dfeedc0ffee00112233445566aabb"
INFLUX_TOKEN = "influx-token-3243f6a8885a308d"
REDIS_PASSWORD = "redis-pass-13198a2e0370"
MARKET = "SIM:ETHUSD"
MODEL = "secrets"
WAIT_S = 90.0


@pytest.fixture
def no_sentry_afterwards() -> object:
    yield None
    import sentry_sdk

    sentry_sdk.get_client().close()
    sentry_sdk.init()


def leaks(text: str | bytes, secrets: list[str]) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [s for s in secrets if s.encode() in data]


@pytest.mark.usefixtures("no_sentry_afterwards")
async def test_no_secret_leaks_through_errors_and_refusals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG")  # as `flashmm --debug engine run` would, then capture what it emits
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    redis_server = RedisServer(tmp_path)
    redis_server.extra_args = ["--requirepass", REDIS_PASSWORD]
    redis_server.start()
    redis_url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{redis_server.port}/0"
    env = {
        "FLASHMM_SIM__PORT": "0",
        "FLASHMM_SIM__API_KEYS": json.dumps({"mm": SIM_KEY}),
        "FLASHMM_SIM__FUND_BASE": "0",
        "FLASHMM_SIM__FUND_QUOTE": "0",
    }
    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    register_missing_model(registry_url, tmp_path)
    try:
        async with sentry_ingest("7") as (sentry_url, ingest):
            dsn = f"http://{SENTRY_KEY}@{sentry_url.removeprefix('http://')}/7"
            secrets = [SIM_KEY, MNEMONIC, CONTROL_TOKEN, SENTRY_KEY, dsn, INFLUX_TOKEN, REDIS_PASSWORD]
            with sim_venue_process([], env, tmp_path, secrets=(SIM_KEY,)) as started:
                async with injecting_proxy(started["url"]) as (proxy_url, injected):
                    settings = Settings(
                        engine=EngineSettings(
                            markets=[MARKET],
                            sim_urls={MARKET: proxy_url},
                            ledger_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"),
                            model_name=MODEL,
                        ),
                        database=DatabaseSettings(url=SecretStr(registry_url)),
                        sim=SimSettings(api_keys={"mm": SecretStr(SIM_KEY)}),
                        sei=SeiSettings(mnemonic=SecretStr(MNEMONIC)),
                        control=ControlSettings(port=0, token=SecretStr(CONTROL_TOKEN)),
                        redis=RedisSettings(url=SecretStr(redis_url)),
                        telemetry=TelemetrySettings(
                            sentry_dsn=SecretStr(dsn),
                            influx_url=SecretStr(f"http://127.0.0.1:{free_port()}"),  # nothing listens
                            influx_token=SecretStr(INFLUX_TOKEN),
                            influx_interval_s=0.25,
                        ),
                        recorder=RecorderSettings(directory=tmp_path / "raw"),
                    )
                    runtime = EngineRuntime(settings, [MARKET])
                    stop = asyncio.Event()
                    task = asyncio.create_task(runtime.run(stop))
                    await asyncio.wait_for(runtime.started.wait(), WAIT_S)
                    (runner,) = runtime.runners
                    tele = runtime.telemetry
                    assert tele.influx is not None and tele.hot_state is not None and tele.sentry
                    await wait_until(
                        lambda: (
                            runner.core.state.state is TradingState.HALTED
                            and injected[0] >= 5
                            and tele.influx is not None
                            and tele.influx.write_failures >= 2
                            and tele.hot_state is not None
                            and tele.hot_state.writes >= 3
                        ),
                        WAIT_S,
                        "halt, injected frames, failed writes and hot-state writes",
                    )
                    status_json, metrics_text = await control_pages(runtime)
                    stop.set()
                    await task
            sentry = tele.sentry
            assert sentry is not None
        client = redis.Redis.from_url(redis_url)
        stored = b"".join(k + b" " + redis_value(client, k) for k in client.scan_iter("*"))
        client.close()
    finally:
        redis_server.stop()
    status = orjson.loads(status_json)
    model = status["model"]
    events = ingest.events()
    bad = runner.link.client.bad_input.total  # type: ignore[attr-defined]
    print(
        f"\nsecrets: {len(caplog.records)} log records, {len(events)} Sentry events, "
        f"{len(status_json)} status bytes, {len(stored)} Redis bytes; halted "
        f"{runner.core.state.reason}, {bad} bad frames counted, refused: {model['last_refusal']}"
    )
    assert runner.core.state.reason == "reject_storm" and bad >= 5
    assert events and any("refused" in str(e) for e in events), "the refusal reached Sentry"
    assert any("InfluxDB write failed" in str(e) for e in events), "the write failure reached Sentry"
    assert model["refusals"] == 1 and model["version"] is None, "the bad model was refused, none serves"
    assert status["markets"][0]["state"] == "halted" and status["telemetry"]["redis"]["writes"] >= 3
    assert status["telemetry"]["influx"]["write_failures"] >= 2 and stored
    assert leaks(caplog.text, secrets) == [], "a secret in the logs"
    assert leaks(b"".join(ingest.bodies), secrets) == [], "a secret in a Sentry envelope"
    assert leaks(status_json, secrets) == [], "a secret in the status JSON"
    assert leaks(metrics_text, secrets) == [], "a secret in /metrics"
    assert leaks(stored, secrets) == [], "a secret in Redis"
    written = written_files(tmp_path, Path(os.environ["FLASHMM_HOME"]))
    assert any(path.name == "ledger.db" for path in written) and any(p.suffix == ".gz" for p in written)
    in_files = {str(path): found for path in written if (found := leaks(file_text(path), secrets))}
    assert in_files == {}, "a secret in a file the run wrote (SQL store, raw segments, var/)"


def written_files(*roots: Path) -> list[Path]:
    """Every file under the run's directories: the SQL stores (SQLite keeps text as is, WAL included), raw
    segments and their specs, journals."""
    return [path for root in roots for path in root.rglob("*") if path.is_file()]


def file_text(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


async def control_pages(runtime: EngineRuntime) -> tuple[bytes, bytes]:
    """GET /status and /metrics from the engine's control API; a POST with a wrong token is refused."""
    assert runtime.control is not None
    base = f"http://127.0.0.1:{runtime.control.port}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/status") as response:
            assert response.status == 200
            status = await response.read()
        async with session.get(f"{base}/metrics") as response:
            metrics = await response.read()
        headers = {"Authorization": f"Bearer {CONTROL_TOKEN}x"}
        async with session.post(f"{base}/pause", headers=headers) as response:
            assert response.status == 401
    return status, metrics


def redis_value(client: redis.Redis, key: bytes) -> bytes:
    """Every value a key holds, whatever its type, as bytes to search."""
    kind = client.type(key)
    if kind == b"string":
        value = client.get(key)
        return value if isinstance(value, bytes) else b""
    if kind == b"stream":
        entries = client.xrange(key)
        groups = client.xinfo_groups(key)
        return repr((entries, groups)).encode()
    if kind == b"hash":
        return repr(client.hgetall(key)).encode()
    if kind == b"list":
        return repr(client.lrange(key, 0, -1)).encode()
    if kind in (b"set", b"zset"):
        members = client.smembers(key) if kind == b"set" else client.zrange(key, 0, -1)
        return repr(members).encode()
    raise AssertionError(f"Redis key {key!r} of unexpected type {kind!r}")


def register_missing_model(registry_url: str, tmp_path: Path) -> None:
    """A production version whose artifact directory does not exist: hot reload refuses it at start."""
    from flashmm_engine.models.registry import ModelRegistry

    registry = ModelRegistry(registry_url)
    try:
        registry.register(MODEL, "v-bad", str(tmp_path / "models" / "missing"), "0" * 64, {})
        registry.advance(MODEL, "v-bad", "production")
    finally:
        registry.close()
