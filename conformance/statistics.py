"""Statistical checks of random ops (mode ``stat``): one false-alarm rate for the suite.

A random op's draws cannot be matched against an RNG of our own, so its spec's ``check``
tests their distribution (binomial, chi-square, Kolmogorov-Smirnov...) and reports each test
through ``pvalue_agreement``: ratio = log(p) / log(ALPHA), <= 1 exactly when p >= ALPHA.

ALPHA is the per-test false-alarm rate. A run makes at most examples x dtypes x tests
statistical tests per random op; with the default 20 examples, 4 dtypes and the suite's
random specs (``BUDGET_TESTS`` bounds their number per run) the union bound keeps the chance
of any false alarm in a whole run below ``SUITE_FALSE_ALARM``. Each spec states the power of
its test against a plausible bug in its docstring.
"""

from __future__ import annotations

import math

from conformance import agreement

ALPHA = 1e-6
SUITE_FALSE_ALARM = 1e-3
# The most statistical tests one backend run may make at ALPHA (union bound).
BUDGET_TESTS = int(SUITE_FALSE_ALARM / ALPHA)


def pvalue_agreement(name: str, pvalue: float, observed: float, expected: float,
                     allowed: float) -> agreement.Agreement:
    """A statistical test as an Agreement: ratio = log(p) / log(ALPHA) (<= 1 passes); the
    p-value itself is recorded with the check."""
    ratio = math.log(pvalue) / math.log(ALPHA) if pvalue > 0 else math.inf
    return agreement.Agreement(name, max(ratio, 0.0), abs(observed - expected), 0.0, (),
                               observed, expected, allowed, False, pvalue=float(pvalue))
