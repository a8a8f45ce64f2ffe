"""Benchmark cases of the message-passing ``graph`` specs: random directed graphs of 1e3,
1e5 and 1e6 edges (10 per node, 16 features), fixed by conformance/bench_cases.py's seed."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conformance import bench_cases as B
from conformance.registry import Case

EDGES = {"small": 1_000, "medium": 100_000, "large": 1_000_000}
BENCH_F = 16


def random_graph(e: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = e // 10
    r = B.rng()
    ei = np.stack([r.integers(0, n, e), r.integers(0, n, e)])
    return B.normal((n, BENCH_F)), ei, r.uniform(0.5, 2.0, e)


def by_edges(make: Callable[[int], Case]) -> dict[str, Callable[[], Case]]:
    return {size: (lambda e=e: make(e)) for size, e in EDGES.items()}


def bench_gcn(e: int) -> Case:
    x, ei, w = random_graph(e)
    return Case((x, ei, w, B.normal((BENCH_F, BENCH_F), BENCH_F**-0.5), B.normal((BENCH_F,))),
                {"self_loops": "add", "improved": False}, ("x", "edge_index", "edge_weight",
                                                            "w", "b"))


def bench_sage(e: int) -> Case:
    x, ei, _ = random_graph(e)
    w = B.normal((BENCH_F, BENCH_F), BENCH_F**-0.5)
    return Case((x, ei, w, B.normal((BENCH_F,)), w), {"aggr": "mean"},
                ("x", "edge_index", "w_l", "b_l", "w_r"))


def bench_gat(e: int) -> Case:
    x, ei, _ = random_graph(e)
    return Case((x, ei, B.normal((2 * 8, BENCH_F), BENCH_F**-0.5), B.normal((2, 8)),
                 B.normal((2, 8)), B.normal((16,))), {"concat": True, "negative_slope": 0.2},
                ("x", "edge_index", "w", "att_src", "att_dst", "b"))


def mp_flops(case: Case) -> int:
    x, ei = case.args[0], case.args[1]
    return 2 * x.shape[0] * x.shape[1] * BENCH_F + 2 * ei.shape[1] * BENCH_F


