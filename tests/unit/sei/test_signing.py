"""Golden vectors: fixed key, chain id, account number, sequence and fee give exact tx bytes.

The expected sha256 values in tests/fixtures/sei/golden_tx.json were computed once with FlashMM's signer;
here they are recomputed both by FlashMM and by independent plain-cosmpy code that spells out every message.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cosmpy.aerial.tx import SigningCfg, Transaction, TxFee
from cosmpy.aerial.wallet import LocalWallet
from cosmpy.crypto.keypairs import PrivateKey
from cosmpy.protos.cosmos.base.v1beta1.coin_pb2 import Coin
from cosmpy.protos.cosmwasm.wasm.v1.tx_pb2 import MsgExecuteContract
from pydantic import SecretStr

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import Side
from flashmm_engine.venues.sei.codec import FinCodec
from flashmm_engine.venues.sei.signing import (
    SeiKeyError,
    TxParams,
    TxSigner,
    load_key_secret,
    wallet_from_secret,
)
from flashmm_engine.venues.sei.units import DenomMarket

KEY_HEX = hashlib.sha256(b"flashmm golden vector key").hexdigest()
# spelled out by hand from the FIN interface, independently of FinCodec
PLAIN_MESSAGES: dict[str, list[tuple[bytes, list[tuple[str, str]]]]] = {
    "place_bid": [(b'{"submit_order":{"price":"2500"}}', [("uusdc", "2500000")])],
    "cycle_cancel_and_quotes": [
        (b'{"retract_order":{"order_idx":"17"}}', []),
        (b'{"submit_order":{"price":"2499.9"}}', [("uusdc", "6249750")]),
        (b'{"submit_order":{"price":"2500.1"}}', [("ueth", "2500")]),
    ],
}


@pytest.fixture(scope="module")
def golden(fixtures_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures_dir / "sei" / "golden_tx.json").read_text())
    return data


def flashmm_tx(golden: dict[str, Any], case: dict[str, Any]) -> bytes:
    codec = FinCodec(DenomMarket.from_settings(SeiSettings()))
    calls = [
        codec.cancel(c[1]) if c[0] == "cancel" else codec.place(Side(c[1]), c[2], c[3]) for c in case["calls"]
    ]
    fee = int(case["fee"].removesuffix("usei"))
    params = TxParams(
        case["chain_id"], case["account_number"], case["sequence"], case["gas_limit"], fee, "usei"
    )
    return TxSigner(wallet_from_secret(SecretStr(KEY_HEX), "sei")).sign_execute(
        golden["contract"], calls, params
    )


def plain_cosmpy_tx(golden: dict[str, Any], case: dict[str, Any]) -> bytes:
    wallet = LocalWallet(PrivateKey(bytes.fromhex(KEY_HEX)), prefix="sei")
    tx = Transaction()
    for msg, funds in PLAIN_MESSAGES[case["name"]]:
        coins = [Coin(denom=d, amount=a) for d, a in funds]
        tx.add_message(
            MsgExecuteContract(
                sender=str(wallet.address()), contract=golden["contract"], msg=msg, funds=coins
            )
        )
    tx.seal(
        SigningCfg.direct(wallet.public_key(), case["sequence"]),
        fee=TxFee(amount=case["fee"], gas_limit=case["gas_limit"]),
    )
    tx.sign(wallet.signer(), case["chain_id"], case["account_number"], deterministic=True).complete()
    data: bytes = tx.tx.SerializeToString()
    return data


def test_golden_vectors_match_flashmm_and_plain_cosmpy(golden: dict[str, Any]) -> None:
    assert len(golden["cases"]) == len(PLAIN_MESSAGES)
    for case in golden["cases"]:
        ours = flashmm_tx(golden, case)
        plain = plain_cosmpy_tx(golden, case)
        assert hashlib.sha256(ours).hexdigest() == case["sha256"], case["name"]
        assert hashlib.sha256(plain).hexdigest() == case["sha256"], case["name"]
        assert len(ours) == case["length"]


def test_address_uses_sei_prefix(golden: dict[str, Any]) -> None:
    assert TxSigner(wallet_from_secret(SecretStr(KEY_HEX), "sei")).address == golden["address"]
    assert golden["address"].startswith("sei1")


def test_signing_is_deterministic_and_sequence_sensitive(golden: dict[str, Any]) -> None:
    case = golden["cases"][0]
    assert flashmm_tx(golden, case) == flashmm_tx(golden, case)
    assert flashmm_tx(golden, {**case, "sequence": 1}) != flashmm_tx(golden, case)


MNEMONIC = " ".join(["abandon"] * 11 + ["about"])  # the BIP-39 test vector


def test_key_sources_and_errors_never_echo_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(MNEMONIC + "\n")
    key_file.chmod(0o600)
    from_file = wallet_from_secret(load_key_secret(SeiSettings(key_file=key_file)), "sei")
    from_setting = wallet_from_secret(load_key_secret(SeiSettings(mnemonic=SecretStr(MNEMONIC))), "sei")
    assert str(from_file.address()) == str(from_setting.address())
    monkeypatch.setenv("FLASHMM_SEI_KEY", KEY_HEX)
    assert load_key_secret(SeiSettings()).get_secret_value() == KEY_HEX
    signer = TxSigner(wallet_from_secret(SecretStr(KEY_HEX), "sei"))
    assert KEY_HEX not in repr(signer) and KEY_HEX not in str(signer)
    bad_words = "abandon " * 11 + "notaword"
    with pytest.raises(SeiKeyError) as err:
        wallet_from_secret(SecretStr(bad_words), "sei")
    assert "notaword" not in str(err.value)
    with pytest.raises(SeiKeyError, match="32 bytes"):
        wallet_from_secret(SecretStr("abcd"), "sei")
    with pytest.raises(SeiKeyError, match="cannot read key file"):
        load_key_secret(SeiSettings(key_file=tmp_path / "missing"))
    assert KEY_HEX not in repr(SeiSettings(private_key=SecretStr(KEY_HEX)))
