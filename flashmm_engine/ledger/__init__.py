"""The durable ledger: orders, fills, positions, cash, fees, engine events and client-id sequences."""
