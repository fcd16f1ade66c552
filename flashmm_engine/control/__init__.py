"""The engine's HTTP control API: open status and metrics, token-guarded actions, and their audit trail."""
