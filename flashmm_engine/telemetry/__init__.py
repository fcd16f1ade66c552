"""Logging, metrics and error counters."""
