"""At DEBUG, with every secret set, no secret reaches a log: a real sim venue and client exchange (the
websockets library's frame logs included) and the CLI commands, successful and failing."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashmm_engine.telemetry.logs import configure_logging
from flashmm_engine.types import Ack, OrderRequest, Side, TimeInForce
from flashmm_engine.venues.sim.client import SimVenueClient
from tests.integration.sim_process import sim_venue_process

FLASHMM = str(Path(sys.executable).parent / "flashmm")
SPOT = str(Path(__file__).parent.parent / "fixtures" / "binance" / "spot_ethusdt_slice.raw.gz")
RUN_TIMEOUT_S = 120.0
EVENT_TIMEOUT_S = 20.0
API_KEY = "sim-api-key-0f3a9c"
SECRETS = {
    "FLASHMM_SIM__API_KEYS": json.dumps({"alice": API_KEY}),
    "FLASHMM_CONTROL__TOKEN": "control-token-7b21e4",
    "FLASHMM_TELEMETRY__SENTRY_DSN": "https://sentrykey:sentry-secret-55d1@o1.ingest.invalid/42",
    "FLASHMM_TELEMETRY__INFLUX_URL": "http://influx:influx-url-pw-9e8d@127.0.0.1:8086",
    "FLASHMM_TELEMETRY__INFLUX_TOKEN": "influx-token-c4d5e6",
    "FLASHMM_REDIS__URL": "redis://:redis-secret-a1b2@127.0.0.1:6379/11",
}
MNEMONIC = "abandon " * 11 + "about"  # a valid BIP-39 phrase; one Sei key source per process
PRIVATE_KEY = "1f" * 32
SECRET_VALUES = (
    API_KEY,
    "control-token-7b21e4",
    "sentry-secret-55d1",
    "influx-url-pw-9e8d",
    "influx-token-c4d5e6",
    "redis-secret-a1b2",
    "db-secret-pw-77aa",
    MNEMONIC,
    "abandon abandon",
    PRIVATE_KEY,
)


def _leaks(text: str) -> list[str]:
    return [secret[:12] for secret in SECRET_VALUES if secret in text]


@pytest.fixture
def secret_env(pg_url: str) -> dict[str, str]:
    # trust auth accepts any password, so the store really is reached with a password in its URL
    db_url = pg_url.replace(
        "postgresql+psycopg://postgres@", "postgresql+psycopg://postgres:db-secret-pw-77aa@"
    )
    assert "db-secret-pw-77aa" in db_url
    return {**SECRETS, "FLASHMM_DATABASE__URL": db_url, "FLASHMM_TELEMETRY__LOG_LEVEL": "DEBUG"}


@pytest.fixture
def debug_logs() -> Iterator[list[logging.LogRecord]]:
    """This process at DEBUG, as a command configures it, with every record kept."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    configure_logging("DEBUG")
    keeper = Keep(logging.DEBUG)
    logging.getLogger().addHandler(keeper)
    try:
        yield records
    finally:
        logging.getLogger().removeHandler(keeper)
        configure_logging("INFO")


async def test_sim_venue_and_client_exchange_at_debug_log_no_secret(
    secret_env: dict[str, str], debug_logs: list[logging.LogRecord], tmp_path: Path
) -> None:
    env = {**secret_env, "FLASHMM_SEI__MNEMONIC": MNEMONIC, "FLASHMM_SIM__PORT": "0"}
    with sim_venue_process([], env, tmp_path, secrets=SECRET_VALUES) as started:
        client = SimVenueClient(started["url"], SecretStr(API_KEY))
        await client.connect()
        try:
            events = client.events()
            market = next(iter(await client.positions()))
            await client.place([OrderRequest("s-1", market, Side.BUY, 1, 1, TimeInForce.GTC)])
            async with asyncio.timeout(EVENT_TIMEOUT_S):
                first = await anext(events)
            assert isinstance(first, Ack) and first.client_id == "s-1"
        finally:
            await client.close()
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in debug_logs)
    assert any(r.levelno == logging.DEBUG for r in debug_logs), "the client side did not run at DEBUG"
    assert not _leaks(text)
    frames = [r for r in debug_logs if r.name.startswith("websockets")]
    assert all(r.levelno >= logging.INFO for r in frames), "websockets frame logs are on"


@pytest.mark.parametrize(
    "args",
    [
        ("model", "list"),
        ("venue", "sim", "--describe", "--seconds", "5"),
        ("backtest", "--synthetic", "5"),
        ("bench", "feed", "--repeat", "1", "--market", "spot", SPOT),
        ("model", "promote", "nobody", "v1"),  # a refusal: the error line is checked too
    ],
    ids=" ".join,
)
def test_cli_commands_at_debug_log_no_secret(
    args: tuple[str, ...], secret_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**os.environ, **secret_env, "FLASHMM_SEI__PRIVATE_KEY": PRIVATE_KEY, "FLASHMM_HOME": str(tmp_path)}
    done = subprocess.run([FLASHMM, *args], capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT_S)
    assert done.returncode == (1 if args[1] == "promote" else 0), done.stderr[-2000:]
    assert " DEBUG " in done.stderr  # really at DEBUG
    assert not _leaks(done.stdout + done.stderr)


def test_unreachable_store_error_masks_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres:db-secret-pw-77aa@127.0.0.1:1/x"
    env = {**os.environ, "FLASHMM_DATABASE__URL": url, "FLASHMM_TELEMETRY__LOG_LEVEL": "DEBUG"}
    done = subprocess.run(
        [FLASHMM, "model", "list"], capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT_S
    )
    assert done.returncode == 1
    assert "postgres:***@127.0.0.1:1/x" in done.stderr.splitlines()[-1]
    assert not _leaks(done.stderr)


def test_sei_stub_at_debug_logs_no_request_header(secret_env: dict[str, str], tmp_path: Path) -> None:
    env = {**os.environ, **secret_env, "FLASHMM_HOME": str(tmp_path)}
    log_path = tmp_path / "stub.log"
    with log_path.open("wb") as log:  # a file, not a pipe nobody reads while the stub runs
        proc = subprocess.Popen(
            [FLASHMM, "venue", "sei-stub", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            text=True,
        )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        request = urllib.request.Request(
            f"{ready['rest_url']}/stub/status", headers={"Authorization": "Bearer control-token-7b21e4"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=RUN_TIMEOUT_S)
    stderr = log_path.read_text()
    assert proc.returncode == 0, stderr[-2000:]
    assert " DEBUG " in stderr
    assert "Authorization" not in stderr and "User-Agent" not in stderr
    assert not _leaks(stderr)
