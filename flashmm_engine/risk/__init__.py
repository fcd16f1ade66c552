"""Pre-trade risk: limits, trading states, throttles, price bands, stale-feed guard, kill switch."""
