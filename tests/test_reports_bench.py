"""The benchmark table: ratios to the fastest backend and the fraction of the machine's
limit, checked against hand-computed values."""

from __future__ import annotations

import pytest

from reports import bench
from tests.fixtures.results import synthetic

syn = synthetic  # the shared generator of synthetic runs
LIMITS = {"bandwidth_gbs": 20.0, "gflops": 100.0}


def test_ratios_to_the_fastest_and_limit_fractions():
    files = [
        syn.bench_file([syn.bench_entry("act.softmax", "torch", 2e-4, nbytes=512_000,
                                        flops=320_000)], LIMITS),
        syn.bench_file([syn.bench_entry("act.softmax", "jax", 5e-4, nbytes=512_000,
                                        flops=320_000)], LIMITS),
        syn.bench_file([syn.bench_entry("act.softmax", "tensorflow", 1e-3)], LIMITS),
    ]
    table = bench.build_table(files)
    assert table.columns == [("jax", "cpu"), ("tensorflow", "cpu"), ("torch", "cpu")]
    (row,) = table.rows
    t = row.timings
    # Fastest is torch at 0.2 ms: jax 0.5 / 0.2 = 2.5, tensorflow 1.0 / 0.2 = 5.
    assert t[("torch", "cpu")].ratio == pytest.approx(1.0) and t[("torch", "cpu")].fastest
    assert t[("jax", "cpu")].ratio == pytest.approx(2.5)
    assert t[("tensorflow", "cpu")].ratio == pytest.approx(5.0)
    # torch: 512 kB / 0.2 ms = 2.56 GB/s of 20 -> 0.128; 320 kflop / 0.2 ms = 1.6 GFLOP/s
    # of 100 -> 0.016; the roofline fraction is the larger, 0.128.
    assert t[("torch", "cpu")].limit_fraction == pytest.approx(0.128)
    # jax: 512 kB / 0.5 ms = 1.024 GB/s -> 0.0512.
    assert t[("jax", "cpu")].limit_fraction == pytest.approx(0.0512)
    # tensorflow's benchmark carries neither bytes nor flops.
    assert t[("tensorflow", "cpu")].limit_fraction is None


def test_limit_fraction_needs_limits_and_work():
    extra = {"bytes": None, "flops": 2_000_000_000}
    assert bench.limit_fraction(0.1, extra, None) is None
    # 2 GFLOP in 0.1 s = 20 GFLOP/s of 100 -> 0.2 (no bandwidth known)
    assert bench.limit_fraction(0.1, extra, {"gflops": 100.0}) == pytest.approx(0.2)


def test_rows_by_size_and_direction_and_duplicates():
    entries = [syn.bench_entry("conv.conv2d", "torch", 3e-3, size="L"),
               syn.bench_entry("conv.conv2d", "torch", 1e-3, size="S"),
               syn.bench_entry("conv.conv2d", "torch", 4e-3, size="S", direction="backward"),
               syn.bench_entry("conv.conv2d", "torch", 0.8e-3, size="S")]
    table = bench.build_table([syn.bench_file(entries)])
    keys = [(r.direction, r.size_label) for r in table.rows]
    assert keys == [("forward", "L"), ("forward", "S"), ("backward", "S")]
    s_row = table.rows[1]
    assert s_row.timings[("torch", "cpu")].median_s == pytest.approx(0.8e-3)  # the faster
    assert table.duplicates == ["conv.conv2d forward float32 S torch cpu"]
    assert s_row.shape == "64×1000"


def test_empty_and_time_format():
    assert bench.build_table([syn.bench_file([])]) is None
    assert bench.fmt_time(2.5e-4) == "250 µs"
    assert bench.fmt_time(1.5) == "1.5 s"
    assert bench.fmt_time(3e-3) == "3 ms"
    assert bench.fmt_time(4.2e-8) == "42 ns"


def test_variants_of_one_op_are_separate_rows():
    two_d, three_d = (syn.bench_entry("pool.max", "torch", m, size="S") for m in (1e-3, 5e-3))
    two_d["extra_info"]["spec"], three_d["extra_info"]["spec"] = "pool.max/2d", "pool.max/3d"
    table = bench.build_table([syn.bench_file([two_d, three_d])])
    assert [r.op for r in table.rows] == ["pool.max/2d", "pool.max/3d"]
    assert table.duplicates == []
