"""`flashmm status|pause|resume|...` as real subprocesses against a running engine's control API, and the
one-line errors when no engine runs, no token is set or the token is wrong."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from flashmm_engine.types import TradingState
from tests.e2e.supervised import free_port
from tests.integration.test_control_api import TOKEN, WRONG, running_engine
from tests.integration.test_engine_bad_input import MARKET

FLASHMM = str(Path(sys.executable).parent / "flashmm")
CLI_TIMEOUT_S = 60.0


async def flashmm(port: int, *args: str, token: str | None = None) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FLASHMM_CONTROL__TOKEN"}
    env["FLASHMM_CONTROL__PORT"] = str(port)
    if token is not None:
        env["FLASHMM_CONTROL__TOKEN"] = token
    proc = await asyncio.create_subprocess_exec(
        FLASHMM, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT_S)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_without_a_running_engine_says_so_in_one_line() -> None:
    port = free_port()
    code, out, err = await flashmm(port, "status")
    assert code == 1 and out == ""
    assert err == f"flashmm: the engine is not running (nothing listens on http://127.0.0.1:{port})\n"
    code, _, err = await flashmm(port, "pause")
    assert code == 2
    assert err == "flashmm: pause needs the control token: set FLASHMM_CONTROL__TOKEN or pass --token-file\n"


async def test_cli_status_and_actions_against_a_running_engine(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    wrong_file = tmp_path / "wrong"
    wrong_file.write_text(WRONG)
    for owner_only in (token_file, wrong_file):
        owner_only.chmod(0o600)
    async with running_engine(tmp_path) as runtime:
        assert runtime.control is not None and runtime.control.port
        port = runtime.control.port
        (runner,) = runtime.runners
        status = await flashmm(port, "status")
        refused = await flashmm(port, "halt", "--token-file", str(wrong_file))
        state_after_refusal = runner.core.state.state
        paused = await flashmm(port, "pause", token=TOKEN)
        state_after_pause = runner.core.state
        resumed = await flashmm(port, "resume", "--market", MARKET, "--token-file", str(token_file))
        state_after_resume = runner.core.state.state
        runner.core.halt("ledger_write_failed")
        fail_closed = await flashmm(port, "resume", token=TOKEN)
    code, out, err = status
    assert code == 0, err
    body = json.loads(out)
    assert [m["market"] for m in body["markets"]] == [MARKET] and TOKEN not in out
    code, out, err = refused
    assert code == 2 and err == "flashmm: halt: refused by the engine (wrong_token)\n"
    assert state_after_refusal is TradingState.ACTIVE
    code, out, err = paused
    assert code == 0, err
    assert json.loads(out)["markets"][MARKET]["state"] == "halted"
    assert state_after_pause.state is TradingState.HALTED and state_after_pause.reason == "operator_pause"
    code, out, err = resumed
    assert code == 0, err
    assert state_after_resume is TradingState.ACTIVE
    code, out, err = fail_closed
    assert code == 1 and out == ""
    assert err == (
        f"flashmm: resume: refused (HTTP 409) {MARKET}: halted (ledger_write_failed) is fail-closed: "
        "restart the engine so it reconciles\n"
    )
