"""Whole-pipeline benchmarks (`flashmm bench pipeline`)."""
