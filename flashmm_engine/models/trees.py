"""Gradient-boosted trees: fitted by LightGBM, served as a TorchScript module of our own.

hummingbird-ml converts LightGBM to torch and works with torch 2.13, but its TorchScript module took
~3 ms p99 for one sample of 300 trees here (its GEMM form multiplies every node of every tree), far over
the 200 us budget. `TreeEnsemble` walks all trees at once instead: each tree is padded to a complete
binary tree of the boosting depth, and all nodes of all trees are tested at once, then matched to
leaves by one small matrix product (see TreeEnsemble).
"""

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

N_CLASSES = 3


class TreeEnsemble(nn.Module):
    """Logits (batch, horizons, 3): the sum over each (horizon, class)'s trees of the reached leaf.

    Every tree is a complete binary tree of one depth, so one (nodes x leaves) path matrix serves them
    all: path[k, l] is +1 when leaf l lies left of node k, -1 when right. With left = 1 where x goes
    left at a node, left @ path counts, per leaf, left turns taken minus wrong right-side ones; it
    equals the leaf's count of left ancestors exactly for the one leaf reached. Ten tensor operations
    whatever the depth, which matters more than arithmetic for one sample."""

    feature: torch.Tensor
    threshold: torch.Tensor
    leaf: torch.Tensor
    output: torch.Tensor
    path: torch.Tensor
    n_left: torch.Tensor

    def __init__(
        self,
        feature: torch.Tensor,
        threshold: torch.Tensor,
        leaf: torch.Tensor,
        output: torch.Tensor,
        depth: int,
        n_horizons: int,
    ) -> None:
        super().__init__()
        self.depth = depth
        self.n_horizons = n_horizons
        self.n_trees = int(feature.shape[0])
        self.n_nodes = (1 << depth) - 1
        path, n_left = path_matrix(depth)
        self.register_buffer("feature", feature.to(torch.long).reshape(-1))  # (trees * nodes,)
        self.register_buffer("threshold", threshold.to(torch.float32))  # (trees, nodes)
        self.register_buffer("leaf", leaf.to(torch.float32))  # (trees, leaves)
        onehot = torch.zeros(self.n_trees, n_horizons * N_CLASSES)
        onehot[torch.arange(self.n_trees), output.to(torch.long)] = 1.0
        self.register_buffer("output", onehot)  # (trees, horizons * 3)
        self.register_buffer("path", path)
        self.register_buffer("n_left", n_left)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        values = x.index_select(1, self.feature).reshape(batch, self.n_trees, self.n_nodes)
        left = (values <= self.threshold).to(torch.float32)
        reached = (torch.matmul(left, self.path) == self.n_left).to(torch.float32)
        logits = torch.matmul((reached * self.leaf).sum(dim=2), self.output)
        return logits.reshape(batch, self.n_horizons, 3)


def path_matrix(depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    nodes, leaves = (1 << depth) - 1, 1 << depth
    path = torch.zeros(nodes, leaves)
    for leaf in range(leaves):
        node = leaf + nodes
        while node > 0:
            parent = (node - 1) // 2
            path[parent, leaf] = 1.0 if node == 2 * parent + 1 else -1.0
            node = parent
    return path, (path > 0).sum(dim=0).to(torch.float32)


def ensemble_from_dumps(dumps: list[dict[str, Any]], depth: int) -> TreeEnsemble:
    """One LightGBM `dump_model()` per horizon (multiclass, 3 classes) -> a TreeEnsemble."""
    internal, leaves = (1 << depth) - 1, 1 << depth
    features, thresholds, leaf_values, outputs = [], [], [], []
    for horizon, dump in enumerate(dumps):
        if dump.get("num_class") != N_CLASSES:
            raise ValueError(f"expected a {N_CLASSES}-class model, got num_class={dump.get('num_class')}")
        for index, info in enumerate(dump["tree_info"]):
            feature = np.zeros(internal, dtype=np.int64)
            threshold = np.full(internal, np.inf, dtype=np.float32)
            leaf = np.zeros(leaves, dtype=np.float32)
            _fill(info["tree_structure"], 0, 0, depth, feature, threshold, leaf)
            features.append(feature)
            thresholds.append(threshold)
            leaf_values.append(leaf)
            outputs.append(horizon * N_CLASSES + index % N_CLASSES)  # trees cycle through the classes
    return TreeEnsemble(
        torch.from_numpy(np.stack(features)),
        torch.from_numpy(np.stack(thresholds)),
        torch.from_numpy(np.stack(leaf_values)),
        torch.tensor(outputs),
        depth,
        len(dumps),
    )


def _fill(
    node: dict[str, Any],
    position: int,
    level: int,
    depth: int,
    feature: NDArray[Any],
    threshold: NDArray[Any],
    leaf: NDArray[Any],
) -> None:
    """Writes `node` at `position` of the complete tree. A leaf above the last level becomes splits that
    always go left (threshold +inf), with its value on every leaf below it."""
    if "leaf_value" in node:
        first, count = (position + 1) * (1 << (depth - level)) - 1, 1 << (depth - level)
        start = first - ((1 << depth) - 1)
        leaf[start : start + count] = node["leaf_value"]
        return
    if level >= depth:
        raise ValueError(f"tree deeper than max_depth={depth}")
    if node.get("decision_type") != "<=":
        raise ValueError(f"unsupported split {node.get('decision_type')!r}")
    feature[position] = int(node["split_feature"])
    threshold[position] = float32_at_most(float(node["threshold"]))
    _fill(node["left_child"], 2 * position + 1, level + 1, depth, feature, threshold, leaf)
    _fill(node["right_child"], 2 * position + 2, level + 1, depth, feature, threshold, leaf)


def float32_at_most(value: float) -> np.float32:
    """The largest float32 <= value: for float32 inputs, x <= value exactly when x <= this."""
    single = np.float32(value)
    if float(single) > value:
        single = np.nextafter(single, np.float32(-np.inf))
    return single
