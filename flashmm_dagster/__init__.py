"""FlashMM's Dagster code location. Assets orchestrate; the work lives in flashmm_engine."""
