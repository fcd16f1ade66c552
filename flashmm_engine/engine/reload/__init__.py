"""Hot model reload (registry poll + Redis stream -> checked load off the loop -> swap between cycles)
and the shadow challenger. `wiring.start_reload` builds and starts all of it for a runtime."""
