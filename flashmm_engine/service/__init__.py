"""Live runtime plumbing: clocks, task supervision, backoff, signals."""
