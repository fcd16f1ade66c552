"""The networks. Each outputs logits (batch, horizons, 3). ProbabilityModel wraps one for export, with
standardization and per-horizon temperatures inside: the engine feeds raw features, gets probabilities.

No `from __future__ import annotations` here: TorchScript must see the buffers' class annotations as types.
"""

from typing import Literal

import torch
from torch import nn

ModelKind = Literal["logreg", "mlp", "seq", "gbdt"]
MODEL_KINDS: tuple[ModelKind, ...] = ("logreg", "mlp", "seq", "gbdt")
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
        out: torch.Tensor = self.linear(x).reshape(x.shape[0], self.n_horizons, 3)
        return out


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
        out: torch.Tensor = self.layers(x).reshape(x.shape[0], self.n_horizons, 3)
        return out


class TemporalConv(nn.Module):
    """A small causal temporal-convolution net over the last `window` feature vectors (batch, window, F).

    The two convolutions (kernel 3, dilations 1 and 2) are written as linear layers over lagged copies:
    the same function as Conv1d, but several times faster for one sample on one thread."""

    def __init__(self, n_features: int, n_horizons: int, hidden: int = 32, dropout: float = 0.2) -> None:
        super().__init__()
        self.n_horizons = n_horizons
        self.conv1 = nn.Linear(3 * n_features, hidden)
        self.conv2 = nn.Linear(3 * hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden + n_features, n_horizons * 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # layer 1 at the steps layer 2 reads for the last output: t-4, t-2, t (window >= 7)
        lagged = torch.cat([x[:, :-2, :], x[:, 1:-1, :], x[:, 2:, :]], dim=2)
        h = torch.relu(self.conv1(lagged[:, -5:, :]))
        last = torch.relu(self.conv2(torch.cat([h[:, 0, :], h[:, 2, :], h[:, 4, :]], dim=1)))
        # the convolution summary plus the latest raw vector (a skip path)
        summary = torch.cat([self.dropout(last), x[:, -1, :]], dim=1)
        out: torch.Tensor = self.head(summary).reshape(x.shape[0], self.n_horizons, 3)
        return out


def build_network(kind: ModelKind, n_features: int, n_horizons: int, hidden: int) -> nn.Module:
    """The gradient-descent networks; `gbdt` is fitted by LightGBM instead (models/trees.py)."""
    if kind == "logreg":
        return LogisticRegression(n_features, n_horizons)
    if kind == "mlp":
        return Mlp(n_features, n_horizons, hidden)
    if kind == "seq":
        return TemporalConv(n_features, n_horizons, max(hidden // 2, 8))
    raise ValueError(f"{kind} is not a gradient-descent network")


class ProbabilityModel(nn.Module):
    """The full feature vector in (the spec's order), calibrated probabilities (batch, horizons, 3) out.
    The model reads the `input_index` subset of it, standardized with training statistics.

    A residual model adds the baseline's log-probabilities (P(class | sign of top-of-book imbalance),
    fitted on training data) to the network's logits: the network learns only what the baseline misses,
    and starts from the baseline itself."""

    input_index: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    temperature: torch.Tensor
    baseline_log_table: torch.Tensor

    def __init__(
        self,
        network: nn.Module,
        input_index: torch.Tensor,
        mean: torch.Tensor,
        std: torch.Tensor,
        n_horizons: int,
        baseline_log_table: torch.Tensor | None = None,
        baseline_column: int = 0,
    ) -> None:
        super().__init__()
        self.network = network
        self.z_clip = Z_CLIP
        self.residual = baseline_log_table is not None
        self.baseline_column = baseline_column
        table = baseline_log_table if baseline_log_table is not None else torch.zeros(n_horizons, 3, 3)
        self.register_buffer("baseline_log_table", table.to(torch.float32))
        self.register_buffer("input_index", input_index.to(torch.long))
        self.register_buffer("mean", mean.to(torch.float32))
        self.register_buffer("std", std.to(torch.float32))
        self.register_buffer("temperature", torch.ones(n_horizons, 1))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        selected = torch.index_select(x, -1, self.input_index)
        out: torch.Tensor = self.network(
            torch.clamp((selected - self.mean) / self.std, -self.z_clip, self.z_clip)
        )
        if self.residual:
            out = out + self.baseline_offset(x)
        return out

    def baseline_offset(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, horizons, 3) log P(class | sign of top-of-book imbalance)."""
        imbalance = x.select(-1, self.baseline_column)
        if imbalance.dim() == 2:  # a sequence: the latest vector
            imbalance = imbalance[:, -1]
        sign = (imbalance > 0).to(torch.long) - (imbalance < 0).to(torch.long) + 1
        return self.baseline_log_table.index_select(1, sign).transpose(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(x) / self.temperature, dim=-1)

    @torch.jit.unused
    def set_temperature(self, temperatures: list[float]) -> None:
        self.temperature.copy_(torch.tensor(temperatures, dtype=torch.float32).reshape(-1, 1))
