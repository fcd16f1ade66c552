"""Binance public market data: message parsing, diff-depth sync, live connector, replay server."""
