"""The networks. Each outputs logits (batch, horizons, 3); ProbabilityModel wraps one for export with
standardization and per-horizon temperatures inside, so the engine feeds raw features and gets probabilities."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

ModelKind = Literal["logreg", "mlp", "seq"]
N_CLASSES = 3
Z_CLIP = 5.0
"""Standardized inputs are clipped: a feature constant in training (e.g. a one-tick spread) must not
explode the first time it moves."""


class LogisticRegression(nn.Module):
    def __init__(self, n_features: int, n_horizons: int) -> None:
        super().__init__()
        self.n_horizons = n_horizons
        self.linear = nn.Linear(n_features, n_horizons * N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).reshape(x.shape[0], self.n_horizons, 3)


class Mlp(nn.Module):
    def __init__(self, n_features: int, n_horizons: int, hidden: int = 64, dropout: float = 0.2) -> None:
        super().__init__()
        self.n_horizons = n_horizons
        self.layers = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_horizons * N_CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).reshape(x.shape[0], self.n_horizons, 3)


class TemporalConv(nn.Module):
    """A small causal temporal-convolution net over the last `window` feature vectors (batch, window, F)."""

    def __init__(self, n_features: int, n_horizons: int, hidden: int = 32, dropout: float = 0.2) -> None:
        super().__init__()
        self.n_horizons = n_horizons
        self.conv1 = nn.Conv1d(n_features, hidden, kernel_size=3, dilation=1)
        self.conv2 = nn.Conv1d(hidden, hidden, kernel_size=3, dilation=2)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden + n_features, n_horizons * N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x.transpose(1, 2)))
        h = torch.relu(self.conv2(h))
        # the last time step of the convolution summary, plus the latest raw vector (a skip path)
        summary = torch.cat([self.dropout(h[:, :, -1]), x[:, -1, :]], dim=1)
        return self.head(summary).reshape(x.shape[0], self.n_horizons, 3)


def build_network(kind: ModelKind, n_features: int, n_horizons: int, hidden: int) -> nn.Module:
    if kind == "logreg":
        return LogisticRegression(n_features, n_horizons)
    if kind == "mlp":
        return Mlp(n_features, n_horizons, hidden)
    return TemporalConv(n_features, n_horizons, max(hidden // 2, 8))


class ProbabilityModel(nn.Module):
    """Raw features in, calibrated probabilities (batch, horizons, 3) out."""

    def __init__(self, network: nn.Module, mean: torch.Tensor, std: torch.Tensor, n_horizons: int) -> None:
        super().__init__()
        self.network = network
        self.z_clip = Z_CLIP
        self.register_buffer("mean", mean.to(torch.float32))
        self.register_buffer("std", std.to(torch.float32))
        self.register_buffer("temperature", torch.ones(n_horizons, 1))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(torch.clamp((x - self.mean) / self.std, -self.z_clip, self.z_clip))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(x) / self.temperature, dim=-1)
