"""The SVG chart writer: well-formed XML, one bar per non-empty bin, and positions on the
log axis checked against values worked out by hand."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from reports import svg

NS = {"s": "http://www.w3.org/2000/svg"}


def test_log_axis_positions_by_hand():
    # lo = 1e-3, hi = 10 spans 4 decades over 400 px starting at x0 = 100:
    # x(v) = 100 + 400 * (log10 v + 3) / 4.
    axis = svg.LogAxis(1e-3, 10.0, 100.0, 500.0)
    assert axis.x(1e-3) == pytest.approx(100.0)      # (−3 + 3) / 4 = 0
    assert axis.x(1e-2) == pytest.approx(200.0)      # 1/4
    assert axis.x(1.0) == pytest.approx(400.0)       # 3/4
    assert axis.x(10.0) == pytest.approx(500.0)      # 4/4
    assert axis.x(10 ** 0.5) == pytest.approx(450.0)  # (0.5 + 3) / 4 = 7/8
    assert axis.x(1e-7) == pytest.approx(100.0)      # clamped at the axis' left end
    assert axis.decades() == pytest.approx([1e-3, 1e-2, 1e-1, 1.0, 10.0])


def test_bad_axis_is_rejected():
    with pytest.raises(ValueError):
        svg.LogAxis(1.0, 1.0, 0.0, 10.0)


def test_bin_counts_by_hand():
    # One bin per decade over [1e-3, 10]: [1e-3,1e-2) [1e-2,0.1) [0.1,1) [1,10];
    # 0 is below the axis, inf above, None and NaN are not counted.
    values = [0.002, 0.003, 0.5, 2.0, 10.0, 0.0, math.inf, None, math.nan]
    under, counts, over = svg.bin_counts(values, 1e-3, 10.0, 1)
    assert (under, counts, over) == (1, [2, 0, 1, 2], 1)
    # Two bins per decade: edges 1e-3, 3.16e-3, 1e-2, ... so 0.002 and 0.003 share the
    # first bin, 0.5 is in [0.316, 1), 2.0 in [1, 3.16) and 10.0 at the top edge.
    _, counts2, _ = svg.bin_counts(values, 1e-3, 10.0, 2)
    assert counts2 == [2, 0, 0, 0, 0, 1, 1, 1]


def test_decade_range():
    assert svg.decade_range([0.004, 0.3], include=(1.0,)) == (1e-3, 1.0)
    assert svg.decade_range([2e-12, 5e6], floor=1e-8, ceil=1e4) == (1e-8, 1e4)
    assert svg.decade_range([None, 0.0, math.inf]) == (0.1, 10.0)  # nothing positive
    assert svg.decade_range([1.0]) == (1.0, 10.0)  # never empty
    # ULP counts beside an exact zero reach float64's maximum (measured: 1.66e308, JAX
    # graph.diffusion/dcnn vjp float64); the range is clipped, not an OverflowError.
    assert svg.decade_range([3.0, 1.66e308], floor=1.0, ceil=1e12) == (1.0, 1e12)
    assert svg.decade_range([5e-324, 2.0], floor=0.0, ceil=1e4) == (1e-307, 10.0)


def _chart(values_by_label: dict[str, list]) -> ET.Element:
    series = [svg.Series(k, v) for k, v in values_by_label.items()]
    text = svg.histogram_rows(series, lo=1e-3, hi=10.0, per_decade=1, pass_line=1.0,
                              title="ratio <&> chart", x_label="error / bound")
    return ET.fromstring(text)  # raises if the SVG is not well-formed XML


def _tick_x(root: ET.Element, label: str) -> float:
    for t in root.iter("{http://www.w3.org/2000/svg}text"):
        if t.get("class") == "tk" and t.text == label:
            return float(t.get("x"))
    raise AssertionError(f"no tick {label!r}")


def test_histogram_is_well_formed_with_one_bar_per_nonempty_bin():
    root = _chart({"torch cpu float32": [0.002, 0.003, 0.5, 2.0, 0.0, math.inf, None],
                   "jax cpu float32": [0.05]})
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    bars = root.findall("s:rect[@class='bar']", NS)
    # Row 1: underflow (0), [1e-3,1e-2) x2, [0.1,1), [1,10], overflow (inf) -> 5 bars;
    # row 2: [1e-2, 0.1) -> 1 bar.
    assert len(bars) == 6
    failing = [b for b in bars if b.get("fill") == svg.FAIL_FILL]
    assert len(failing) == 2  # [1, 10] and the overflow bin lie beyond the pass line
    titles = [b.find("s:title", NS).text for b in bars]
    assert "torch cpu float32: 2 of 6 [0.001, 0.01]" in titles
    assert root.find("s:title", NS).text == "ratio <&> chart"


def test_pass_line_and_ticks_sit_where_the_log_scale_puts_them():
    root = _chart({"a": [0.5]})
    x_lo, x_hi = _tick_x(root, "1e-3"), _tick_x(root, "10")
    line = root.find("s:line[@class='pass-line']", NS)
    # 1 is 3 of the 4 decades from 1e-3 to 10; 0.01 is 1 of 4.
    assert float(line.get("x1")) == pytest.approx(x_lo + 0.75 * (x_hi - x_lo), abs=0.06)
    assert _tick_x(root, "0.01") == pytest.approx(x_lo + 0.25 * (x_hi - x_lo), abs=0.06)
    # The single value 0.5 lies in the bin [0.1, 1): the third of four equal bins.
    (bar,) = root.findall("s:rect[@class='bar']", NS)
    left = float(bar.get("x"))
    assert x_lo + 0.5 * (x_hi - x_lo) <= left < x_lo + 0.75 * (x_hi - x_lo)


def test_bar_height_relative_to_the_row_peak():
    root = _chart({"a": [0.002, 0.003, 0.004, 0.004, 0.5, 0.5]})  # counts 4 and 2
    heights = sorted(float(b.get("height")) for b in root.findall("s:rect[@class='bar']", NS))
    assert heights[0] == pytest.approx(heights[1] / 2, abs=0.06)


def test_labels_are_escaped():
    text = svg.histogram_rows([svg.Series("<b>&x</b>", [0.1])], lo=0.01, hi=10.0)
    root = ET.fromstring(text)
    labels = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "rl"]
    assert labels[0].text.startswith("<b>&x</b>")
    assert "<b>" not in text
