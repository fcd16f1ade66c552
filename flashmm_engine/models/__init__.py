"""Direction models: networks, training, TorchScript export, loading and the registry."""
