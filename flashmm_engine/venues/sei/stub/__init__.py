"""A local Sei stub node: Cosmos REST and CometBFT websocket shapes, real signature checks, sim matching."""
