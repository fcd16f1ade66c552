"""Single-sample, single-thread inference latency: what the engine pays once per quote cycle."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

WARMUP_CALLS = 200


@dataclass(frozen=True, slots=True)
class Latency:
    calls: int
    p50_us: float
    p99_us: float
    cpu_p99_us: float = 0.0
    """p99 of the calling thread's CPU time per call: leaves out the time the thread waited preempted,
    which dominates wall-clock p99 when more processes are runnable than there are cores; it still holds
    cache misses and a VM's steal time, so quote `uptime` with either."""


def measure_latency(module: torch.nn.Module, example: torch.Tensor, calls: int = 2_000) -> Latency:
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            for _ in range(WARMUP_CALLS):
                module(example)
            timings, cpu = np.empty(calls), np.empty(calls)
            for i in range(calls):
                start, cpu_start = time.perf_counter_ns(), time.thread_time_ns()
                module(example)
                timings[i] = time.perf_counter_ns() - start
                cpu[i] = time.thread_time_ns() - cpu_start
    finally:
        torch.set_num_threads(previous_threads)
    return Latency(
        calls,
        float(np.percentile(timings, 50)) / 1e3,
        float(np.percentile(timings, 99)) / 1e3,
        float(np.percentile(cpu, 99)) / 1e3,
    )
