"""Every `flashmm` command given bad input, through the real entry point in a subprocess.

Each case must exit 1 (the work failed or produced nothing) or 2 (bad option, file, setting or state),
print exactly one line on stderr, `flashmm: <what is wrong and what was expected>`, with no traceback, and
print nothing on stdout: no success-shaped JSON for work that did not happen.
"""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

FLASHMM = str(Path(sys.executable).parent / "flashmm")
RUN_TIMEOUT_S = 120.0
"""A guard only: every case fails at start, before any work."""
FIXTURES = Path(__file__).parent.parent / "fixtures" / "binance"
SPOT = str(FIXTURES / "spot_ethusdt_slice.raw.gz")
KEYS = '{"acct": "sim-key-1"}'


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    code: int
    says: str
    env: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return " ".join(self.args)[:60]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("bad-inputs")
    snapshot_only = root / "snapshot-only.raw.gz"
    with gzip.open(SPOT, "rb") as capture:
        first_snapshot = next(line for line in capture if b'"lastUpdateId"' in line)
    snapshot_only.write_bytes(gzip.compress(first_snapshot))
    empty_dir = root / "no-captures"
    empty_dir.mkdir()
    model_dir = root / "not-a-model"
    model_dir.mkdir()
    (model_dir / "manifest.json").write_text("{}")
    return {
        "snapshot_only": str(snapshot_only),
        "empty_dir": str(empty_dir),
        "not_a_model": str(model_dir),
    }


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture(scope="module")
def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


CASES = [
    # settings: one line naming the variable, never its value
    Case(("venue", "sim"), 2, "FLASHMM_SIM__API_KEYS: not valid JSON", {"FLASHMM_SIM__API_KEYS": "notjson"}),
    Case(
        ("model", "list"),
        2,
        "FLASHMM_TELEMETRY__LOG_LEVEL: unknown log level",
        {"FLASHMM_TELEMETRY__LOG_LEVEL": "LOUD"},
    ),
    Case(
        ("model", "list"),
        2,
        "FLASHMM_DATABASE__URL: not a SQL store URL",
        {"FLASHMM_DATABASE__URL": "notaurl"},
    ),
    Case(("backtest", "--synthetic", "5"), 2, "FLASHMM_SIM__PORT", {"FLASHMM_SIM__PORT": "70000"}),
    Case(
        ("model", "list"),
        1,
        "cannot use the SQL store postgresql+psycopg://flashmm:***@127.0.0.1:{dead_port}/x",
        {"FLASHMM_DATABASE__URL": "postgresql+psycopg://flashmm:pg-secret-pw@127.0.0.1:{dead_port}/x"},
    ),
    Case(
        ("model", "list"),
        2,
        "cannot create the SQL store's directory /proc/nope",
        {"FLASHMM_HOME": "/proc/nope"},
    ),
    Case(("venue", "sim"), 2, "no API keys: set FLASHMM_SIM__API_KEYS"),
    # ports already in use
    Case(
        ("venue", "sim", "--port", "{busy_port}"),
        1,
        "cannot listen on 127.0.0.1:{busy_port}: address already in use",
        {"FLASHMM_SIM__API_KEYS": KEYS},
    ),
    Case(
        ("venue", "sei-stub", "--port", "{busy_port}"),
        1,
        "cannot listen on 127.0.0.1:{busy_port}: address already in use",
    ),
    Case(("replay", "serve", "--market", "spot", "--port", "{busy_port}", SPOT), 1, "address already in use"),
    # ranges are validated at the option, nothing silently replaced
    Case(("backtest", "--synthetic", "-5"), 2, "Invalid value for '--synthetic'"),
    Case(("backtest", "--synthetic", "0"), 2, "Invalid value for '--synthetic'"),
    Case(("backtest",), 2, "give either FILE or --synthetic SECONDS"),
    Case(("backtest", "--synthetic", "5", SPOT), 2, "give either FILE or --synthetic SECONDS"),
    Case(
        ("backtest", "--synthetic", "5", "--half-spread-ticks", "-1"),
        2,
        "Invalid value for '--half-spread-ticks'",
    ),
    Case(("replay", "watch", "--stale-after", "-1", SPOT), 2, "Invalid value for '--stale-after'"),
    Case(("replay", "watch", "--stale-after", "0", SPOT), 2, "Invalid value for '--stale-after'"),
    Case(("replay", "watch", "--print-every", "0", SPOT), 2, "Invalid value for '--print-every'"),
    Case(("replay", "serve", "--speed", "-1", SPOT), 2, "Invalid value for '--speed'"),
    Case(("replay", "serve", "--drop", "1.5", SPOT), 2, "Invalid value for '--drop'"),
    Case(("replay", "serve", "--disconnect-after-messages", "-3", SPOT), 2, "--disconnect-after-messages"),
    Case(("replay", "serve", "--port", "70000", SPOT), 2, "Invalid value for '--port'"),
    Case(("venue", "sim", "--describe", "--seconds", "0"), 2, "Invalid value for '--seconds'"),
    Case(("venue", "sim", "--describe", "--seconds", "-2"), 2, "Invalid value for '--seconds'"),
    Case(("venue", "sim", "--seconds", "5"), 2, "--seconds applies to --describe only"),
    Case(("venue", "sei-stub", "--block-ms", "0"), 2, "Invalid value for '--block-ms'"),
    Case(("venue", "sei-stub", "--min-gas-price", "-1"), 2, "Invalid value for '--min-gas-price'"),
    Case(("venue", "sei-stub", "--host", "0.0.0.0"), 2, "bind a loopback address"),
    Case(("venue", "sei-stub", "--fund", "nonsense"), 2, "expected ADDRESS:AMOUNTdenom"),
    Case(("bench", "feed", "--repeat", "0", SPOT), 2, "Invalid value for '--repeat'"),
    Case(("bench", "inference", "--calls", "1", "{not_a_model}"), 2, "Invalid value for '--calls'"),
    # unknown keys in JSON options are refused
    Case(("venue", "sei-stub", "--faults", '{"nope": 1}'), 2, "unknown fault key 'nope'"),
    Case(
        ("venue", "sei-stub", "--faults", '{"fund": {"adress": "x"}}'),
        2,
        "unknown key 'adress' in fault 'fund'",
    ),
    Case(("venue", "sei-stub", "--faults", "notjson"), 2, "--faults: not JSON"),
    # files, state and work that produces nothing
    Case(("replay", "verify-book", "/nonexistent.raw.gz"), 2, "does not exist"),
    Case(
        ("replay", "serve", "--market", "spot", "{snapshot_only}"),
        2,
        "{snapshot_only}: not a capture of a known feed: found 1 line",
    ),
    Case(
        ("replay", "watch", "--market", "spot", "--record", "/proc/nope", SPOT),
        2,
        "cannot create the recording directory /proc/nope",
    ),
    Case(("bench", "inference", "{not_a_model}"), 2, "refused: "),
    Case(("bench", "inference", "/nonexistent"), 2, "does not exist"),
    Case(("model", "evaluate", "{not_a_model}", "--data", SPOT), 2, "refused: "),
    Case(("model", "train", "--data", "/nonexistent"), 2, "does not exist"),
    Case(("model", "train", "--data", "{empty_dir}"), 2, "no capture files found"),
    Case(("model", "promote", "nobody", "v1"), 1, "no model nobody/v1"),
    Case(("model", "promote", "nobody", "v1", "--stage", "retired"), 2, "Invalid value for '--stage'"),
    Case(("model", "rollback", "nobody"), 1, "nobody: no previously promoted version"),
    Case(("nope",), 2, "No such command 'nope'"),
    Case(("replay", "nope"), 2, "No such command 'nope'"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_gives_one_line_and_a_non_zero_exit(
    case: Case, files: dict[str, str], busy_port: int, dead_port: int, tmp_path: Path
) -> None:
    names = {**files, "busy_port": str(busy_port), "dead_port": str(dead_port)}

    def fill(text: str) -> str:
        for name, value in names.items():
            text = text.replace("{" + name + "}", value)
        return text

    args = [fill(a) for a in case.args]
    env = {**os.environ, "FLASHMM_HOME": str(tmp_path / "home")}
    env.pop("FLASHMM_TELEMETRY__LOG_LEVEL", None)
    env.update({k: fill(v) for k, v in case.env.items()})
    done = subprocess.run(
        [FLASHMM, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=RUN_TIMEOUT_S
    )
    lines = done.stderr.splitlines()
    assert done.returncode == case.code, done.stderr[-3000:]
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("flashmm: ") and "Traceback" not in done.stderr
    assert fill(case.says) in lines[0]
    assert done.stdout.strip() == ""
    assert "secret-pw" not in done.stderr


def test_debug_adds_the_traceback() -> None:
    done = subprocess.run(
        [FLASHMM, "--debug", "backtest", "--synthetic", "5"],
        capture_output=True,
        text=True,
        env={**os.environ, "FLASHMM_SIM__PORT": "70000"},
        timeout=RUN_TIMEOUT_S,
    )
    assert done.returncode == 2
    assert "Traceback" in done.stderr and done.stderr.splitlines()[-1].startswith("flashmm: ")


@pytest.mark.parametrize("group", [(), ("model",), ("replay",)], ids=lambda g: " ".join(g) or "flashmm")
def test_a_group_without_a_command_prints_its_help(group: tuple[str, ...]) -> None:
    done = subprocess.run([FLASHMM, *group], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0 and done.stdout.startswith("Usage: flashmm") and done.stderr == ""
