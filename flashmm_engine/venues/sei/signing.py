"""Offline signing with cosmpy: one MsgExecuteContract per order action, one transaction per quote cycle.

Signatures are RFC 6979 deterministic (`deterministic=True`), so a fixed key, chain id, account number,
sequence and fee always give the same tx bytes: that is what the golden vectors pin.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
from cosmpy.aerial.tx import SigningCfg, Transaction, TxFee
from cosmpy.aerial.wallet import LocalWallet
from cosmpy.crypto.keypairs import PrivateKey
from cosmpy.protos.cosmos.base.v1beta1.coin_pb2 import Coin as ProtoCoin
from cosmpy.protos.cosmwasm.wasm.v1.tx_pb2 import MsgExecuteContract
from pydantic import SecretStr

from flashmm_engine.config.secret_files import SecretFileError, read_secret_file
from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.venues.sei.codec import ExecuteCall

KEY_ENV_VAR = "FLASHMM_SEI_KEY"
"""Fallback env var holding a hex private key or a mnemonic, for deployments that avoid settings files."""


class SeiKeyError(ValueError):
    """No usable key; the message never contains key material."""


@dataclass(frozen=True, slots=True)
class TxParams:
    chain_id: str
    account_number: int
    sequence: int
    gas_limit: int
    fee_amount: int
    fee_denom: str
    memo: str = ""


def load_key_secret(settings: SeiSettings) -> SecretStr:
    """The key material from settings (private_key, mnemonic or key_file), else the KEY_ENV_VAR variable."""
    if settings.private_key is not None:
        return settings.private_key
    if settings.mnemonic is not None:
        return settings.mnemonic
    if settings.key_file is not None:
        return _read_key_file(settings.key_file)
    from_env = os.environ.get(KEY_ENV_VAR)
    if from_env:
        return SecretStr(from_env.strip())
    raise SeiKeyError(f"no Sei key: set FLASHMM_SEI__KEY_FILE, FLASHMM_SEI__PRIVATE_KEY or {KEY_ENV_VAR}")


def _read_key_file(path: Path) -> SecretStr:
    """Refused when group or others may access it, as ssh refuses an unprotected private key."""
    try:
        return read_secret_file(path, "key file")
    except SecretFileError as exc:
        raise SeiKeyError(str(exc)) from None


def wallet_from_secret(secret: SecretStr, prefix: str) -> LocalWallet:
    """A mnemonic has spaces; anything else must be a 32-byte hex private key."""
    text = secret.get_secret_value().strip()
    if " " in text:
        try:
            return LocalWallet.from_mnemonic(text, prefix=prefix)
        except (ValueError, RuntimeError):
            # the library's message may echo a word of the mnemonic: report none of it
            raise SeiKeyError("the mnemonic is not valid BIP-39") from None
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise SeiKeyError("the private key is neither a mnemonic nor hex") from None
    if len(raw) != 32:
        raise SeiKeyError(f"the private key must be 32 bytes, got {len(raw)}")
    return LocalWallet(PrivateKey(raw), prefix=prefix)


class TxSigner:
    """Holds the wallet; its repr and str never show the key."""

    def __init__(self, wallet: LocalWallet) -> None:
        self._wallet = wallet
        self.address = str(wallet.address())

    @classmethod
    def from_settings(cls, settings: SeiSettings) -> TxSigner:
        return cls(wallet_from_secret(load_key_secret(settings), settings.prefix))

    def __repr__(self) -> str:
        return f"TxSigner(address={self.address})"

    __str__ = __repr__

    def sign_execute(self, contract: str, calls: Sequence[ExecuteCall], params: TxParams) -> bytes:
        """Serialized TxRaw bytes of one transaction executing every call in order."""
        tx = Transaction()
        for call in calls:
            tx.add_message(execute_msg(self.address, contract, call))
        fee = TxFee(amount=f"{params.fee_amount}{params.fee_denom}", gas_limit=params.gas_limit)
        tx.seal(SigningCfg.direct(self._wallet.public_key(), params.sequence), fee=fee, memo=params.memo)
        tx.sign(self._wallet.signer(), params.chain_id, params.account_number, deterministic=True)
        tx.complete()
        data: bytes = tx.tx.SerializeToString()
        return data


def execute_msg(sender: str, contract: str, call: ExecuteCall) -> MsgExecuteContract:
    funds = [
        ProtoCoin(denom=c.denom, amount=str(c.amount)) for c in sorted(call.funds, key=lambda c: c.denom)
    ]
    return MsgExecuteContract(sender=sender, contract=contract, msg=orjson.dumps(call.msg), funds=funds)
