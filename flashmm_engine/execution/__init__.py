"""Order management: client ids, the order state machine, diffing, and the trading core that runs a cycle."""
