"""The stub node applies the real chain's rules to transactions built by plain cosmpy code, outside FlashMM.

The node runs as a real subprocess (`flashmm venue sei-stub --port 0`) and is reached over loopback HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from cosmpy.aerial.tx import SigningCfg, Transaction, TxFee
from cosmpy.aerial.wallet import LocalWallet
from cosmpy.crypto.keypairs import PrivateKey
from cosmpy.protos.cosmos.base.v1beta1.coin_pb2 import Coin
from cosmpy.protos.cosmwasm.wasm.v1.tx_pb2 import MsgExecuteContract

CHAIN_ID = "atlantic-2"
KEY = PrivateKey(hashlib.sha256(b"plain cosmpy client key").digest())
WALLET = LocalWallet(KEY, prefix="sei")
START_TIMEOUT_S = 20
TX_WAIT_S = 30.0
"""Only a guard: tests wait for the tx to be executed (found by hash), not for a number of blocks."""
POLL_S = 0.05


@pytest.fixture(scope="module")
def node() -> Iterator[dict[str, Any]]:
    env = {**os.environ, "FLASHMM_SEI__CHAIN_ID": CHAIN_ID, "FLASHMM_TELEMETRY__LOG_LEVEL": "WARNING"}
    cmd = [
        sys.executable,
        "-c",
        "from flashmm_engine.cli import main; main()",
        "venue",
        "sei-stub",
        "--port",
        "0",
        "--block-ms",
        "100",
        "--fund",
        f"{WALLET.address()}:1000000000usei",
        "--fund",
        f"{WALLET.address()}:1000000000uusdc",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"stub did not start: {proc.stderr.read() if proc.stderr else ''}")
        info = json.loads(line)
        assert info["rest_url"].startswith("http://127.0.0.1:")
        yield info
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def executed(node: dict[str, Any], txhash: str) -> dict[str, Any]:
    """The tx result once a block has executed it."""
    deadline = time.monotonic() + TX_WAIT_S
    status, body = http("GET", f"{node['rest_url']}/cosmos/tx/v1beta1/txs/{txhash}")
    while status == 404 and time.monotonic() < deadline:
        time.sleep(POLL_S)
        status, body = http("GET", f"{node['rest_url']}/cosmos/tx/v1beta1/txs/{txhash}")
    assert status == 200, body
    return body


def http(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def plain_cosmpy_tx(
    contract: str, sequence: int, account_number: int, fee: str, chain_id: str = CHAIN_ID
) -> str:
    msg = MsgExecuteContract(
        sender=str(WALLET.address()),
        contract=contract,
        msg=b'{"submit_order":{"price":"2000"}}',
        funds=[Coin(denom="uusdc", amount="2000000")],
    )
    tx = (
        Transaction()
        .add_message(msg)
        .seal(SigningCfg.direct(WALLET.public_key(), sequence), fee=TxFee(amount=fee, gas_limit=300_000))
        .sign(WALLET.signer(), chain_id, account_number, deterministic=True)
        .complete()
    )
    return base64.b64encode(tx.tx.SerializeToString()).decode()


def broadcast(node: dict[str, Any], tx_b64: str) -> dict[str, Any]:
    status, body = http(
        "POST",
        node["rest_url"] + "/cosmos/tx/v1beta1/txs",
        {"tx_bytes": tx_b64, "mode": "BROADCAST_MODE_SYNC"},
    )
    assert status == 200
    response: dict[str, Any] = body["tx_response"]
    return response


def account(node: dict[str, Any]) -> dict[str, Any]:
    status, body = http("GET", f"{node['rest_url']}/cosmos/auth/v1beta1/accounts/{WALLET.address()}")
    assert status == 200
    acc: dict[str, Any] = body["account"]
    return acc


def test_wrong_sequence_gets_code_32_and_right_one_code_0(node: dict[str, Any]) -> None:
    acc = account(node)
    number, seq = int(acc["account_number"]), int(acc["sequence"])
    wrong = broadcast(node, plain_cosmpy_tx(node["contract"], seq + 1, number, "6000usei"))
    assert wrong["code"] == 32
    assert (
        wrong["raw_log"]
        == f"account sequence mismatch, expected {seq}, got {seq + 1}: incorrect account sequence"
    )
    right = broadcast(node, plain_cosmpy_tx(node["contract"], seq, number, "6000usei"))
    assert right["code"] == 0, right["raw_log"]
    assert len(right["txhash"]) == 64


def test_wrong_chain_id_fee_and_bad_bytes_are_refused(node: dict[str, Any]) -> None:
    acc = account(node)
    number = int(acc["account_number"])
    # the committed sequence may lag the mempool by one block: ask the node what it expects
    probe = broadcast(node, plain_cosmpy_tx(node["contract"], 10_000, number, "6000usei"))
    seq = int(probe["raw_log"].split("expected ")[1].split(",")[0])
    bad_chain = broadcast(
        node, plain_cosmpy_tx(node["contract"], seq, number, "6000usei", chain_id="pacific-1")
    )
    assert bad_chain["code"] == 4 and "signature verification failed" in bad_chain["raw_log"]
    low_fee = broadcast(node, plain_cosmpy_tx(node["contract"], seq, number, "5999usei"))
    assert low_fee["code"] == 13
    assert low_fee["raw_log"] == "insufficient fees; got: 5999usei required: 6000usei: insufficient fee"
    garbage = broadcast(node, base64.b64encode(b"\xff\x00not a tx").decode())
    assert garbage["code"] == 2


def test_executed_tx_is_found_by_hash_with_wasm_events(node: dict[str, Any]) -> None:
    acc = account(node)
    probe = broadcast(node, plain_cosmpy_tx(node["contract"], 10_000, int(acc["account_number"]), "6000usei"))
    seq = int(probe["raw_log"].split("expected ")[1].split(",")[0])
    sent = broadcast(node, plain_cosmpy_tx(node["contract"], seq, int(acc["account_number"]), "6000usei"))
    assert sent["code"] == 0
    body = executed(node, sent["txhash"])
    assert body["tx_response"]["code"] == 0
    types = [e["type"] for e in body["tx_response"]["events"]]
    assert "wasm" in types and "wasm-submit_order" in types


def test_tx_search_by_query_or_legacy_events_with_the_sdk_errors(node: dict[str, Any]) -> None:
    acc = account(node)
    probe = broadcast(node, plain_cosmpy_tx(node["contract"], 10_000, int(acc["account_number"]), "6000usei"))
    seq = int(probe["raw_log"].split("expected ")[1].split(",")[0])
    sent = broadcast(node, plain_cosmpy_tx(node["contract"], seq, int(acc["account_number"]), "6000usei"))
    assert sent["code"] == 0
    executed(node, sent["txhash"])
    base = node["rest_url"] + "/cosmos/tx/v1beta1/txs?"
    contract = f"wasm._contract_address='{node['contract']}'"
    by_query = urllib.parse.urlencode({"query": f"{contract} AND tx.height>=1", "limit": "100"})
    status, body = http("GET", base + by_query)
    assert status == 200 and sent["txhash"] in [r["txhash"] for r in body["tx_responses"]]
    total = int(body["total"])
    heights = [int(r["height"]) for r in body["tx_responses"]]
    assert heights == sorted(heights) and total == len(heights)
    legacy = urllib.parse.urlencode([("events", contract), ("events", "tx.height>=1")])
    status, old = http("GET", base + legacy + "&pagination.limit=1&pagination.offset=0")
    assert status == 200 and old["total"] == body["total"] and len(old["tx_responses"]) == 1
    assert http("GET", base.rstrip("?")) == (
        400,
        {"code": 3, "message": "query cannot be empty", "details": []},
    )
    status, past_end = http("GET", base + by_query + f"&page={total + 1}")
    assert status == 500 and "page should be within" in past_end["message"]


def test_fault_api_refuses_unknown_keys_and_names_them(node: dict[str, Any]) -> None:
    status, body = http("POST", f"{node['rest_url']}/stub/faults", {"duplicate": True, "nope": 1})
    assert status == 400 and "unknown fault key 'nope'" in body["message"]
    status, body = http("POST", f"{node['rest_url']}/stub/faults", {"fund": {"address": "a", "amt": 1}})
    assert status == 400 and "unknown key 'amt' in fault 'fund'" in body["message"]
    status, body = http("POST", f"{node['rest_url']}/stub/faults", {"duplicate": False})
    assert status == 200
