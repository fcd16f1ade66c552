"""Assets by stage. Each one orchestrates a flashmm_engine call and reports what it did as metadata."""
