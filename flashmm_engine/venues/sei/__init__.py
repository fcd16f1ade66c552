"""Sei venue: a cosmpy-signed adapter for a CosmWasm order-book contract, and a local stub node to test it."""
