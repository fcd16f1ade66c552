"""Reports built from the ledger, the registry and stored market data (the daily report)."""
