"""The live runtime: cycle scheduler, one task per market, reconciliation, start-up and shutdown."""
