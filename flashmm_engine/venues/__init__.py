"""Venue interface and its implementations: sim (default), sei, binance (market data)."""
