"""Bootstrap intervals on data with a known answer: they cover the true difference at about their level,
contain 0 when model and baseline are equally good, and need blocks when samples are autocorrelated."""

from __future__ import annotations

import numpy as np
import pytest

from flashmm_engine.features.labels import DOWN, FLAT, UP
from flashmm_engine.models.bootstrap import BlockBootstrap, BootstrapConfig
from flashmm_engine.models.metrics import compare, fit_baseline, horizon_report, sample_scores

DATASETS = 100
N = 4_000
CONFIG = BootstrapConfig(reps=400, block_samples=20)
TRUE_Q = np.array([0.3, 0.4, 0.3])


def constant(p: np.ndarray, n: int) -> np.ndarray:
    return np.tile(p, (n, 1))


def test_log_loss_difference_interval_covers_the_known_difference() -> None:
    uniform = np.full(3, 1 / 3)
    true_diff = float((TRUE_Q * np.log(uniform / TRUE_Q)).sum())  # E[loss(model) - loss(uniform)] < 0
    covered = beats = 0
    for seed in range(DATASETS):
        y = np.random.default_rng(seed).choice(3, size=N, p=TRUE_Q)
        report = compare(
            sample_scores(constant(TRUE_Q, N), y),
            sample_scores(constant(uniform, N), y),
            BlockBootstrap(N, CONFIG),
        )
        low, high = report["log_loss_diff_ci"]
        covered += low <= true_diff <= high
        beats += report["beats_baseline"]["log_loss"]
    assert 0.88 * DATASETS <= covered <= DATASETS
    assert beats >= 0.9 * DATASETS  # -0.0097 nats with a standard error of ~0.002


def coin_guess(rng: np.random.Generator) -> np.ndarray:
    up = rng.random(N) < 0.5
    return np.where(up[:, None], [[0.3, 0.1, 0.6]], [[0.6, 0.1, 0.3]])


def test_equal_models_give_intervals_that_contain_zero() -> None:
    contains = claimed = 0
    for seed in range(DATASETS):
        rng = np.random.default_rng(seed)
        y = np.where(rng.random(N) < 0.5, UP, DOWN)

        ours, theirs = coin_guess(rng), coin_guess(rng)  # as good as a coin: the same expected scores
        report = compare(sample_scores(ours, y), sample_scores(theirs, y), BlockBootstrap(N, CONFIG))
        for metric in ("accuracy", "log_loss", "brier"):
            low, high = report[f"{metric}_diff_ci"]
            contains += low <= 0 <= high
            claimed += report["beats_baseline"][metric]
    assert contains >= 0.88 * 3 * DATASETS
    assert claimed <= 0.06 * 3 * DATASETS  # a one-sided claim at 2.5% per metric


def test_blocks_are_needed_when_samples_are_autocorrelated() -> None:
    """Right or wrong in runs of 100 samples (a coin per run, true accuracy 0.5): resampling rows alone
    gives intervals far too narrow; blocks longer than the runs cover the truth."""
    run = 100
    coverage = {}
    for block in (1, 4 * run):
        covered = 0
        for seed in range(DATASETS):
            coins = np.random.default_rng(seed).random(N // run) < 0.5
            correct = np.repeat(coins, run).astype(float)
            boot = BlockBootstrap(N, BootstrapConfig(reps=400, block_samples=block, seed=seed))
            low, high = boot.interval(boot.ratio(correct, np.ones(N)))
            covered += low <= 0.5 <= high
        coverage[block] = covered / DATASETS
    assert coverage[1] < 0.5
    assert coverage[4 * run] >= 0.85


def test_replicate_sums_wrap_blocks_around_the_end() -> None:
    boot = BlockBootstrap(5, BootstrapConfig(reps=1, block_samples=3))
    boot.starts = np.array([[3, 0]])
    assert boot.replicate_sums(np.array([1.0, 2.0, 4.0, 8.0, 16.0]))[0] == (8 + 16 + 1) + (1 + 2 + 4)


def test_horizon_report_gives_every_figure_with_its_interval() -> None:
    rng = np.random.default_rng(3)
    n = 3_000
    imbalance = rng.uniform(-1, 1, n)
    up = rng.random(n) < np.where(imbalance > 0, 0.7, 0.3)
    y = np.where(rng.random(n) < 0.2, FLAT, np.where(up, UP, DOWN))[:, None]
    table = fit_baseline(imbalance, y)
    probs = np.tile([[[0.4, 0.2, 0.4]]], (n, 1, 1))  # ignores the signal: must lose to the baseline
    report = horizon_report(probs, y, imbalance, table, ["1000ms"], CONFIG)
    figures = report["horizons"]["1000ms"]  # type: ignore[index]
    assert figures["n_moves"] == int((y != FLAT).sum())
    for metric in ("accuracy", "log_loss", "brier"):
        low, high = figures[f"{metric}_ci"]
        assert low <= figures[metric] <= high
        low, high = figures[f"baseline_{metric}_ci"]
        assert low <= figures[f"baseline_{metric}"] <= high
        assert figures[f"{metric}_diff"] == pytest.approx(figures[metric] - figures[f"baseline_{metric}"])
        assert figures["beats_baseline"][metric] is False
    assert figures["log_loss_diff_ci"][0] > 0  # significantly worse, and the interval says so
    assert report["bootstrap"]["reps"] == CONFIG.reps  # type: ignore[index]
