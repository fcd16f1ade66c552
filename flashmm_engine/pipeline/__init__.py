"""The model lifecycle's steps as library calls: what the Dagster assets (and `flashmm pipeline`) run."""
