"""Settings for the Sei (Cosmos-side CosmWasm order book) venue adapter and its local stub node."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator


class SeiSettings(BaseModel):
    # Chain facts (pacific-1 mainnet, atlantic-2 testnet; prefix sei; fee denom usei with 6 decimals).
    chain_id: str = Field(default="atlantic-2", description="Chain id signed into every transaction.")
    prefix: str = Field(default="sei", description="Bech32 account prefix.")
    fee_denom: str = Field(default="usei", description="Denom fees are paid in.")
    gas_price: Decimal = Field(default=Decimal("0.02"), gt=0, description="Fee per gas unit, in fee_denom.")
    gas_margin: Decimal = Field(
        default=Decimal("1.3"), ge=1, description="Simulated gas is multiplied by this."
    )
    gas_cap: int = Field(default=3_000_000, gt=0, description="Never request more gas than this per tx.")
    rest_url: str = Field(default="http://127.0.0.1:1317", description="Cosmos SDK REST (LCD) base URL.")
    ws_url: str = Field(default="ws://127.0.0.1:26657/websocket", description="CometBFT websocket URL.")
    contract_address: str = Field(default="", description="Bech32 address of the order-book contract.")
    market: str = Field(default="sei:ETH/USDC", description="FlashMM market name of the contract's pair.")
    base_denom: str = Field(default="ueth", description="Chain denom of the market's base asset.")
    quote_denom: str = Field(default="uusdc", description="Chain denom of the market's quote asset.")
    base_decimals: int = Field(default=6, ge=0, le=18, description="Decimals of base_denom.")
    quote_decimals: int = Field(default=6, ge=0, le=18, description="Decimals of quote_denom.")
    tick_size: Decimal = Field(default=Decimal("0.01"), gt=0, description="Price tick, in quote per base.")
    lot_size: Decimal = Field(default=Decimal("0.0001"), gt=0, description="Size lot, in base units.")
    private_key: SecretStr | None = Field(default=None, description="Hex secp256k1 private key (secret).")
    mnemonic: SecretStr | None = Field(
        default=None, description="BIP-39 mnemonic, HD path m/44'/118'/0'/0/0."
    )
    key_file: Path | None = Field(default=None, description="File holding a hex private key or a mnemonic.")
    sequence_resync_s: float = Field(default=30.0, gt=0, description="Periodic sequence resync interval.")
    block_time_s: float = Field(default=0.4, gt=0, description="Expected block time.")
    tx_poll_blocks: int = Field(
        default=3, ge=1, description="Blocks without an event before polling by hash."
    )
    tx_timeout_s: float = Field(
        default=60.0, gt=0, description="A tx with no outcome after this long leaves its orders UNKNOWN."
    )
    order_retention_s: float = Field(
        default=600.0, gt=0, description="Finished orders and resolved txs are kept this long."
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> SeiSettings:
        sources = [s for s in (self.private_key, self.mnemonic, self.key_file) if s is not None]
        if len(sources) > 1:
            raise ValueError("set only one of sei.private_key, sei.mnemonic, sei.key_file")
        return self
