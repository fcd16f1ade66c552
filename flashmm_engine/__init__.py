"""FlashMM engine: domain code and the live runtime. Never imports dagster."""

__version__ = "0.1.0"
