"""Stub node pieces without sockets: query parsing, CheckTx on bad input, and the contract's accounting."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import Side
from flashmm_engine.venues.sei.codec import Coin, ExecuteCall, FinCodec
from flashmm_engine.venues.sei.signing import TxParams, TxSigner, wallet_from_secret
from flashmm_engine.venues.sei.stub.ante import AnteConfig
from flashmm_engine.venues.sei.stub.bank import Bank
from flashmm_engine.venues.sei.stub.chain import StubChain
from flashmm_engine.venues.sei.stub.cli import parse_fund
from flashmm_engine.venues.sei.stub.contract import FinContract
from flashmm_engine.venues.sei.stub.query import Condition, QueryError, matches, parse_query
from flashmm_engine.venues.sei.stub.server import contract_address
from flashmm_engine.venues.sei.units import DenomMarket

MARKET = DenomMarket.from_settings(SeiSettings())
CONTRACT = contract_address("unit", "sei")


def signer(label: bytes) -> TxSigner:
    return TxSigner(wallet_from_secret(SecretStr(hashlib.sha256(label).hexdigest()), "sei"))


def test_parse_query_with_height_ranges() -> None:
    q = f"tm.event='Tx' AND wasm._contract_address='{CONTRACT}' AND tx.height>=5 AND tx.height<=7"
    conditions = parse_query(q)
    assert conditions == [
        Condition("tm.event", "=", "Tx"),
        Condition("wasm._contract_address", "=", CONTRACT),
        Condition("tx.height", ">=", "5"),
        Condition("tx.height", "<=", "7"),
    ]
    index = {"tm.event": ["Tx"], "wasm._contract_address": [CONTRACT], "tx.height": ["6"]}
    assert matches(conditions, index)
    assert not matches(conditions, {**index, "tx.height": ["8"]})
    for bad in ("tm.event EXISTS", "tx.height>='x'", "a='" + "x" * 600 + "'"):
        with pytest.raises(QueryError):
            parse_query(bad)


def test_parse_fund() -> None:
    assert parse_fund("sei1abc:1000usei") == ("sei1abc", 1000, "usei")
    with pytest.raises(Exception, match="ADDRESS:AMOUNT"):
        parse_fund("sei1abc=1000usei")


def chain_with(bank: Bank) -> StubChain:
    cfg = AnteConfig("unit-1", "sei", "usei", Decimal("0.02"))
    return StubChain(cfg, bank, FinContract(CONTRACT, MARKET, bank, taker_fee_ppm=500), now_ns=lambda: 0)


def test_matching_settles_balances_exactly() -> None:
    bank = Bank()
    maker, taker = signer(b"maker"), signer(b"taker")
    for who in (maker, taker):
        for denom in ("usei", "ueth", "uusdc"):
            bank.mint(who.address, denom, 10**12)
    chain = chain_with(bank)
    codec = FinCodec(MARKET)
    params = TxParams("unit-1", 0, 0, 400_000, 8_000, "usei")
    bid = maker.sign_execute(CONTRACT, [codec.place(Side.BUY, 250_000, 10)], params)
    assert chain.check_tx(bid)["code"] == 0
    ask = taker.sign_execute(
        CONTRACT, [codec.place(Side.SELL, 249_000, 4)], TxParams("unit-1", 1, 0, 400_000, 8_000, "usei")
    )
    assert chain.check_tx(ask)["code"] == 0
    records = chain.produce_block()
    assert [r.code for r in records] == [0, 0]
    fills = [e for e in records[1].events if e["type"] == "wasm-fill"]
    assert len(fills) == 2  # maker's then taker's
    # maker bought 4 lots (400 ueth) at 2500 and still escrows 6 lots of quote
    assert bank.balance(maker.address, "ueth") == 10**12 + 400
    assert bank.balance(maker.address, "uusdc") == 10**12 - MARKET.quote_raw(250_000, 10)
    # taker sold at the maker's price and paid the 500 ppm taker fee in quote
    proceeds = MARKET.quote_raw(250_000, 4)
    assert bank.balance(taker.address, "uusdc") == 10**12 + proceeds - proceeds * 500 // 10**6
    assert bank.balance(CONTRACT, "uusdc") == MARKET.quote_raw(250_000, 6) + proceeds * 500 // 10**6


def test_bad_transactions_are_refused_and_change_nothing() -> None:
    bank = Bank()
    maker = signer(b"maker")
    bank.mint(maker.address, "usei", 10**9)
    chain = chain_with(bank)
    assert chain.check_tx(b"\x0a\x05garbage")["code"] == 2
    codec = FinCodec(MARKET)
    params = TxParams("unit-1", 0, 0, 400_000, 8_000, "usei")
    no_funds = maker.sign_execute(CONTRACT, [codec.place(Side.BUY, 250_000, 10)], params)
    assert chain.check_tx(no_funds)["code"] == 0  # CheckTx checks fee and signature, not the contract
    cancel_missing = maker.sign_execute(
        CONTRACT, [codec.cancel("99")], TxParams("unit-1", 0, 1, 400_000, 8_000, "usei")
    )
    assert chain.check_tx(cancel_missing)["code"] == 0
    low_gas = maker.sign_execute(CONTRACT, [codec.cancel("1")], TxParams("unit-1", 0, 2, 1_000, 20, "usei"))
    assert chain.check_tx(low_gas)["code"] == 0
    records = chain.produce_block()
    assert [r.code for r in records] == [5, 5, 11]
    assert "uusdc is smaller than" in records[0].raw_log
    assert "Order 99 not found" in records[1].raw_log
    assert bank.balance(maker.address, "usei") == 10**9 - 8_000 - 8_000 - 20  # fees are still charged
    assert bank.account(maker.address) is not None and bank.account(maker.address).committed_sequence == 3  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_check_tx(data: bytes) -> None:
    bank = Bank()
    result = chain_with(bank).check_tx(data)
    assert result["code"] != 0 and result["raw_log"]


def test_mangled_signed_tx_is_refused() -> None:
    bank = Bank()
    maker = signer(b"maker")
    bank.mint(maker.address, "usei", 10**9)
    chain = chain_with(bank)
    tx = maker.sign_execute(
        CONTRACT, [FinCodec(MARKET).cancel("1")], TxParams("unit-1", 0, 0, 400_000, 8_000, "usei")
    )
    flipped = bytearray(tx)
    flipped[-5] ^= 0x01  # inside the signature
    assert chain.check_tx(bytes(flipped))["code"] == 4
    assert chain.check_tx(tx)["code"] == 0


def test_a_submit_outside_the_bands_fails_in_the_block() -> None:
    bank = Bank()
    maker = signer(b"maker")
    for denom in ("usei", "ueth"):
        bank.mint(maker.address, denom, 10**9)
    chain = chain_with(bank)
    huge = ExecuteCall({"submit_order": {"price": "1000000000000000"}}, (Coin("ueth", 100),))  # 1e17 ticks
    tx = maker.sign_execute(CONTRACT, [huge], TxParams("unit-1", 0, 0, 400_000, 8_000, "usei"))
    assert chain.check_tx(tx)["code"] == 0
    (record,) = chain.produce_block()
    assert record.code == 5 and "out of range" in record.raw_log
    assert bank.balance(maker.address, "ueth") == 10**9  # nothing escrowed
