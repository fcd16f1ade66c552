"""CheckTx for the stub: decode TxRaw and apply the Cosmos SDK ante checks in the SDK's order.

Codes and raw-log texts follow the SDK's registered errors (sdk codespace): 2 tx decode, 4 unauthorized,
5 insufficient funds, 8 invalid pubkey, 9 unknown address, 13 insufficient fee, 32 wrong sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import orjson
from cosmpy.crypto.address import Address
from cosmpy.crypto.keypairs import PublicKey
from cosmpy.protos.cosmos.crypto.secp256k1.keys_pb2 import PubKey
from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import AuthInfo, SignDoc, TxBody, TxRaw
from cosmpy.protos.cosmwasm.wasm.v1.tx_pb2 import MsgExecuteContract
from google.protobuf.message import DecodeError

from flashmm_engine.venues.sei.codec import Coin
from flashmm_engine.venues.sei.stub.bank import Account, Bank

EXECUTE_TYPE_URL = "/cosmwasm.wasm.v1.MsgExecuteContract"
SECP256K1_TYPE_URL = "/cosmos.crypto.secp256k1.PubKey"
_SECP256K1_HALF_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 // 2


class TxRejected(Exception):
    def __init__(self, code: int, raw_log: str) -> None:
        super().__init__(raw_log)
        self.code = code
        self.raw_log = raw_log


@dataclass(frozen=True, slots=True)
class ExecuteMsg:
    sender: str
    contract: str
    msg: dict[str, object]
    funds: tuple[Coin, ...]


@dataclass(frozen=True, slots=True)
class DecodedTx:
    body_bytes: bytes
    auth_info_bytes: bytes
    signature: bytes
    pubkey: bytes
    sequence: int
    gas_limit: int
    fee: tuple[Coin, ...]
    messages: tuple[ExecuteMsg, ...]
    signer: str


def decode_tx(tx_bytes: bytes, prefix: str) -> DecodedTx:
    try:
        return _decode(tx_bytes, prefix)
    # ecdsa reports a malformed public key point with MalformedPointError, an AssertionError subclass
    except (DecodeError, ValueError, AssertionError) as exc:
        raise TxRejected(2, f"tx parse error: {type(exc).__name__}: tx parse error") from None


def _decode(tx_bytes: bytes, prefix: str) -> DecodedTx:
    raw = TxRaw.FromString(tx_bytes)
    body = TxBody.FromString(raw.body_bytes)
    auth = AuthInfo.FromString(raw.auth_info_bytes)
    if len(auth.signer_infos) != 1 or len(raw.signatures) != 1:
        raise TxRejected(4, "wrong number of signers; expected 1: unauthorized")
    info = auth.signer_infos[0]
    if info.public_key.type_url != SECP256K1_TYPE_URL:
        raise TxRejected(8, f"unsupported public key type {info.public_key.type_url}: invalid pubkey")
    pubkey = PubKey.FromString(info.public_key.value).key
    signer = str(Address(PublicKey(pubkey), prefix))
    messages = tuple(_execute_msg(any_msg.type_url, any_msg.value) for any_msg in body.messages)
    if not messages:
        raise TxRejected(18, "must contain at least one message: invalid request")
    fee = tuple(Coin(c.denom, int(c.amount)) for c in auth.fee.amount)
    return DecodedTx(
        raw.body_bytes,
        raw.auth_info_bytes,
        raw.signatures[0],
        pubkey,
        info.sequence,
        auth.fee.gas_limit,
        fee,
        messages,
        signer,
    )


def _execute_msg(type_url: str, value: bytes) -> ExecuteMsg:
    if type_url != EXECUTE_TYPE_URL:
        raise TxRejected(2, f"unable to resolve type URL {type_url}: tx parse error")
    msg = MsgExecuteContract.FromString(value)
    try:
        payload = orjson.loads(msg.msg)
    except orjson.JSONDecodeError:
        raise TxRejected(18, "msg: invalid: invalid request") from None
    if not isinstance(payload, dict):
        raise TxRejected(18, "msg: invalid: invalid request")
    funds = tuple(Coin(c.denom, int(c.amount)) for c in msg.funds)
    return ExecuteMsg(msg.sender, msg.contract, payload, funds)


def required_fee(gas_limit: int, min_gas_price: Decimal) -> int:
    return math.ceil(Decimal(gas_limit) * min_gas_price)


@dataclass(slots=True)
class AnteConfig:
    chain_id: str
    prefix: str
    fee_denom: str
    min_gas_price: Decimal


def ante(tx: DecodedTx, bank: Bank, cfg: AnteConfig, *, simulate: bool) -> Account:
    """Run the checks; on success (and not simulating) deduct the fee and advance the sequence."""
    for msg in tx.messages:
        if msg.sender != tx.signer:
            raise TxRejected(
                8, f"pubKey does not match signer address {msg.sender} with signer index: 0: invalid pubkey"
            )
    fee = sum(c.amount for c in tx.fee if c.denom == cfg.fee_denom)
    need = required_fee(tx.gas_limit, cfg.min_gas_price)
    if not simulate and fee < need:
        raise TxRejected(
            13,
            f"insufficient fees; got: {fee}{cfg.fee_denom} required: {need}{cfg.fee_denom}: insufficient fee",
        )
    acc = bank.account(tx.signer)
    if acc is None:
        raise TxRejected(9, f"account {tx.signer} does not exist: unknown address")
    have = acc.balances.get(cfg.fee_denom, 0)
    if have < fee:
        raise TxRejected(
            5,
            f"spendable balance {have}{cfg.fee_denom} is smaller than {fee}{cfg.fee_denom}: "
            "insufficient funds",
        )
    if tx.sequence != acc.sequence:
        raise TxRejected(
            32,
            f"account sequence mismatch, expected {acc.sequence}, got {tx.sequence}: "
            "incorrect account sequence",
        )
    if not simulate and not _signature_ok(tx, cfg.chain_id, acc.number):
        raise TxRejected(
            4,
            "signature verification failed; please verify account number "
            f"({acc.number}) and chain-id ({cfg.chain_id}): unauthorized",
        )
    if not simulate:
        acc.balances[cfg.fee_denom] = have - fee
        acc.sequence += 1
        acc.pubkey = tx.pubkey
    return acc


def _signature_ok(tx: DecodedTx, chain_id: str, account_number: int) -> bool:
    if len(tx.signature) != 64 or int.from_bytes(tx.signature[32:], "big") > _SECP256K1_HALF_ORDER:
        return False  # the SDK accepts only 64-byte low-S signatures (malleability)
    doc = SignDoc(
        body_bytes=tx.body_bytes,
        auth_info_bytes=tx.auth_info_bytes,
        chain_id=chain_id,
        account_number=account_number,
    )
    return bool(PublicKey(tx.pubkey).verify(doc.SerializeToString(), tx.signature))
