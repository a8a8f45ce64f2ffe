"""The report as a person sees it: built from realistic synthetic runs (two backends, two
dtypes, a failure with its reproducer, a known divergence, benchmarks), rendered by headless
Chromium; assertions run on the DOM as the browser computed it, and a screenshot is kept as
a test artifact (the test's tmp dir and reports/artifacts/report-screenshot.png).

Needs Debian's ``chromium`` (``.ci/run`` installs it); without it the tests skip, saying why,
or fail where KERNEL_ORACLE_REQUIRE_BROWSER=1 says the browser must be there.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports import html
from tests.fixtures.results import synthetic

ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = ROOT / "reports" / "artifacts" / "report-screenshot.png"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WINDOW = (1400, 2000)


syn = synthetic  # the shared generator of synthetic runs


def _find_chromium() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def chromium() -> str:
    """The browser's path; a test installs nothing, so a missing browser skips with the
    reason, unless KERNEL_ORACLE_REQUIRE_BROWSER=1 (set by .ci/run, which installs it)."""
    found = _find_chromium()
    if found:
        return found
    message = ("chromium not found (/usr/bin/chromium): install Debian's `chromium` package "
               "(.ci/run does)")
    if os.environ.get("KERNEL_ORACLE_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _run_browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    dirs = syn.realistic_runs(tmp / "results")
    report = tmp / "report.html"
    html.build(dirs, report)
    exe = chromium()
    url = report.resolve().as_uri()
    dom = _run_browser(exe, tmp / "profile", "--dump-dom", url).stdout
    shot = tmp / "report-screenshot.png"
    _run_browser(exe, tmp / "profile", f"--screenshot={shot}",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}", url)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    if shot.exists():
        shutil.copyfile(shot, ARTIFACT)
    return dom, shot


class Dom(HTMLParser):
    """Elements by tag with their attributes and the text inside them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": [], "parents": list(self._open)}
        self.elements.append(el)
        if tag not in {"br", "meta", "img", "input", "hr", "link"}:
            self._open.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for el in self._open:
            el["text"].append(data)

    def find(self, tag: str, cls: str | None = None) -> list[dict]:
        return [e for e in self.elements if e["tag"] == tag
                and (cls is None or cls in e["attrs"].get("class", "").split())]


def text_of(el: dict) -> str:
    return " ".join(" ".join(el["text"]).split())


@pytest.fixture(scope="module")
def dom(rendered):
    parser = Dom()
    parser.feed(rendered[0])
    return parser


def test_matrix_shows_every_catalog_op_with_verdict_cells(dom):
    (table,) = dom.find("table", "matrix")
    rows = [e for e in dom.find("tr") if "data-op" in e["attrs"]]
    assert len(rows) == 102  # every catalog id, checked or not
    cells = dom.find("td", "cell")
    # 7 ops in all four columns (2 backends x 2 dtypes), norm.batch_norm_train in one.
    assert len(cells) == 7 * 4 + 1
    assert len(dom.find("td", "gap")) == (102 - 8) * 4
    failing = [c for c in cells if "w-fail" in c["attrs"]["class"]]
    assert len(failing) == 1
    assert "act.softmax" in failing[0]["attrs"]["title"]
    assert text_of(failing[0]).startswith("fwd 38")
    headers = [text_of(th) for th in dom.find("th") if table in th["parents"]]
    assert {"torch 2.13.0", "jax 0.10.2", "float64", "float32"} <= set(headers)


def test_a_chart_with_bars_and_the_pass_line(dom):
    charts = dom.find("svg", "chart")
    assert len(charts) >= 2
    section = next(e for e in dom.find("section") if e["attrs"].get("id") == "op-act.softmax")
    bars = [r for r in dom.find("rect", "bar") if section in r["parents"]]
    assert len(bars) >= 4
    assert any(r["attrs"].get("fill") == "#d62728" for r in bars)  # the failure, past 1
    assert [e for e in dom.find("line", "pass-line") if section in e["parents"]]


def test_reproducer_is_shown_verbatim(dom):
    (pre,) = dom.find("pre", "repro")
    assert "".join(pre["text"]).strip() == syn.REPRODUCER.strip()
    assert any("Standalone reproducer" in text_of(h) for h in dom.find("h4"))


def test_benchmark_table_and_divergences(dom):
    (table,) = dom.find("table", "bench")
    text = text_of(table)
    assert "×2.50" in text and "×1.00" in text and "12.8%" in text
    assert "torch-lrn-window" in " ".join(text_of(t) for t in dom.find("table", "divs"))


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return size[0], size[1], zlib.decompress(idat)


def test_screenshot_is_saved_and_not_blank(rendered):
    shot = rendered[1]
    width, height, raw = _png_pixels(shot)
    assert (width, height) == WINDOW
    assert len(set(raw[:: 4099])) > 8  # many distinct byte values: something was drawn
    assert ARTIFACT.read_bytes() == shot.read_bytes()
