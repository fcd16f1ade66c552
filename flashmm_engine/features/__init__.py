"""Features and labels: one incremental state machine, driven live by the engine and in batch by backfills."""
