"""The daily report's figures as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

FIGSIZE = (7.0, 3.2)
DPI = 90


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def line_plot(
    title: str, series: Mapping[str, tuple[Sequence[float], Sequence[float]]], ylabel: str
) -> bytes:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for label, (x, y) in series.items():
        ax.step(x, y, where="post", label=label)
    ax.set_title(title)
    ax.set_xlabel("hours since 00:00 UTC")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    return _png(fig)


def bar_plot(title: str, labels: Sequence[str], values: Sequence[float], ylabel: str) -> bytes:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    colors = ["tab:green" if v >= 0 else "tab:red" for v in values]
    ax.bar(list(labels), list(values), color=colors)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def grouped_bars(
    title: str, groups: Sequence[str], bars: Mapping[str, Sequence[float]], ylabel: str
) -> bytes:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    width = 0.8 / max(1, len(bars))
    for i, (label, values) in enumerate(bars.items()):
        ax.bar([g + i * width for g in range(len(groups))], list(values), width=width, label=label)
    ax.set_xticks([g + width * (len(bars) - 1) / 2 for g in range(len(groups))], list(groups))
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)
