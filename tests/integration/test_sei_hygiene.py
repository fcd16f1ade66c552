"""No secret in logs: a full venue session at DEBUG, with faults that make every component log, is checked
for the mnemonic and the private key it derives."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from flashmm_engine.types import Ack, OrderRequest, Side
from flashmm_engine.venues.sei.signing import load_key_secret, wallet_from_secret
from flashmm_engine.venues.sei.stub.server import StubNode
from flashmm_engine.venues.sei.venue import SeiVenue
from tests.integration.sei_support import FUND, collect, venue_settings, wait_blocks

MNEMONIC = "test " * 11 + "junk"  # the well-known Cosmos dev mnemonic


async def test_no_secret_in_logs(stub: StubNode, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key_file = tmp_path / "sei.key"
    key_file.write_text(MNEMONIC)
    key_file.chmod(0o600)
    settings = venue_settings(stub, private_key=None, key_file=key_file)
    wallet = wallet_from_secret(load_key_secret(settings), "sei")
    private_hex = wallet.signer().private_key_hex
    for denom, amount in FUND.items():
        stub.bank.mint(str(wallet.address()), denom, amount)

    venue = SeiVenue(settings)
    await venue.connect()
    try:
        await stub.apply_faults({"bump_sequence": {"address": venue.address, "by": 2}})
        await venue.place([OrderRequest("h1", "sei:ETH/USDC", Side.BUY, 250_000, 5)])
        await collect(venue, lambda evs: any(isinstance(e, Ack) for e in evs))
        await stub.apply_faults({"drop_websockets": True})
        await wait_blocks(3)
        await venue.place(
            [OrderRequest("h1", "sei:ETH/USDC", Side.BUY, 250_000, 5)]
        )  # duplicate id: rejected
    finally:
        await venue.close()

    assert venue.submitter is not None and venue.submitter.sequence.mismatches == 1
    assert caplog.records, "the session must have logged something for this check to mean anything"
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (MNEMONIC, private_hex, private_hex.upper()):
        assert secret not in text
    assert "test test test" not in text
