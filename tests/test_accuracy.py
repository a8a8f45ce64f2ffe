"""The oracle's own accuracy, enforced: every op against its mpmath transcription at 50
digits on the hard input classes, within the bound stated in oracle/accuracy/bounds.py.

A few examples per (op form, class) here (CI has two cores); ``python -m oracle accuracy``
draws more. The transcriptions themselves are checked for convergence (50 against 90
digits) on the inputs where a fixed precision could fail them.
"""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest

from oracle import __main__ as cli
from oracle import _canon
from oracle.accuracy import bounds as B
from oracle.accuracy import harness as H
from oracle.accuracy import measure as M
from oracle.accuracy.cases import FORMS, Draw
from oracle.precise import PRECISE
from oracle.registry import OPS

# Examples per (form, class): 3 for the families measured on hard classes, 2 for those
# measured on their specs' inputs.
EXAMPLES = 3
OWN = sorted(FORMS)
OTHERS = sorted(set(H.all_forms()) - set(FORMS))


def test_every_oracle_op_has_a_transcription_a_form_and_a_stated_bound():
    assert set(OPS) <= set(PRECISE)
    assert set(OPS) <= set(H.all_forms())
    for op in OPS:
        bound = B.bound_for(op)
        assert bound is not None and bound.reason and bound.kind in M.KINDS, op


@pytest.mark.parametrize("op", OWN)
def test_within_stated_bound(op):
    res = H.measure_op(op, EXAMPLES, seed_value=0)
    assert res.examples > 0, res.errors
    assert res.passed, (f"{op}: max {res.max:.3g} > {res.bound_text} (class {res.worst_class}, "
                        f"{res.worst_case}); errors: {res.errors}")


@pytest.mark.parametrize("op", OTHERS)
def test_other_families_within_stated_bound(op):
    res = H.measure_op(op, 2, seed_value=0)
    if not res.measured:
        pytest.skip(res.status)  # their owners' spec inputs do not fit the transcription
    assert res.passed, f"{op}: {res.status}, max {res.max:.3g} > {res.bound_text}"


def _converged(form_op: str, cls: str, seeds: range) -> None:
    form = FORMS[form_op][0]
    for s in seeds:
        args, kwargs = form.build(Draw(np.random.default_rng(s), cls))
        with mpmath.workdps(50):
            lo = _canon.flatten_outputs(form.precise(*args, **kwargs))
        with mpmath.workdps(90):
            hi = _canon.flatten_outputs(form.precise(*args, **kwargs))
        for a, b in zip(lo, hi):
            err = M.abs_errors(M.to_float(a), b)
            assert np.all(M.measure(err, M.to_float(b), "ulp") <= 0.5), (form_op, cls, s)


@pytest.mark.parametrize("op, cls", [
    ("act.softmax", "saturation"), ("act.log_softmax", "saturation"),
    ("loss.cross_entropy", "saturation"), ("loss.binary_cross_entropy", "tiny"),
    ("loss.binary_cross_entropy", "saturation"), ("norm.layer_norm", "offset"),
    ("norm.batch_norm_train", "near_ties"), ("pool.l2", "minute"), ("reg.l2", "huge"),
    ("ad.vjp", "ordinary"), ("ad.dual_arith", "tiny"),
])
def test_transcriptions_are_converged_at_50_digits(op, cls):
    """The 50-digit value rounds to the same float64 as the 90-digit one (within half an
    ulp): a fixed precision loses x_j - lse for a dominant logit, 1 - p for tiny p and
    1 - tanh^2 in saturation, which the transcriptions avoid."""
    _converged(op, cls, range(3))


def test_measure_units_on_hand_values():
    exact = np.array([1.0, 1.5, 0.0, 2.0**-1074 * 3])
    err = np.array([2.0**-52, 2.0**-52, 0.0, 2.0**-1074])
    np.testing.assert_array_equal(M.measure(err, exact, "ulp"), [1.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(M.measure(err[:2], exact[:2], "rel"), [1.0, 1 / 1.5])
    # norm: against max(|e_i|, rms(e)); terms: against the given scale
    np.testing.assert_allclose(M.measure(np.array([2.0**-52]), np.array([1e-3]), "norm"), [1e3])
    np.testing.assert_allclose(M.measure(np.array([2.0**-52]), np.array([1e-3]), "terms",
                                         np.array([2.0])), [0.5])
    # an exact value beyond the float64 range rounds to inf: the oracle's inf agrees
    with mpmath.workdps(50):
        big = np.array([mpmath.mpf("1e400"), mpmath.mpf("-1e400")], dtype=object)
    np.testing.assert_array_equal(M.abs_errors(np.array([np.inf, np.inf]), big), [0.0, np.inf])


def test_stated_error_is_in_absolute_units():
    exact = np.array([1.0, -3.0, 0.0])
    # act.softmax: 4 ulp of each element
    np.testing.assert_allclose(B.stated_error("act.softmax/variant", exact, 1.0),
                               4 * np.array([2.0**-52, 2.0**-51, 2.0**-1074]))
    # loss.mse: 4 eps relative
    np.testing.assert_allclose(B.stated_error("loss.mse", exact, 1.0), 4 * 2.0**-52 * np.abs(exact))
    # nn.dense: 5 eps * max(|exact|, scale)
    np.testing.assert_allclose(B.stated_error("nn.dense", exact, 2.0),
                               5 * 2.0**-52 * np.array([2.0, 3.0, 2.0]))
    assert B.stated_error("act.relu", exact, 1.0) == 0.0
    assert B.stated_error("no.such_op", exact, 1.0) == 0.0


def test_agreement_adds_the_oracle_error_in_float64_only():
    from conformance import agreement

    exact = np.array([1.0, 2.0, 4.0])
    plain = agreement.compare("y", exact, exact, exact, "float64")
    with_op = agreement.compare("y", exact, exact, exact, "float64", op="block.residual")
    assert with_op.allowed == pytest.approx(plain.allowed + 24 * 2.0**-52 * 4.0)
    f32 = agreement.compare("y", exact, exact, exact, "float32", op="block.residual")
    assert f32.allowed == agreement.compare("y", exact, exact, exact, "float32").allowed


def test_command_prints_the_table_writes_json_and_exits_by_the_bounds(tmp_path, capsys,
                                                                       monkeypatch):
    out = tmp_path / "acc" / "accuracy.json"
    assert cli.main(["accuracy", "--ops", "act.relu", "pool.max", "--examples", "2",
                     "--json", str(out), "--seed", "3"]) == 0
    text = capsys.readouterr()
    assert "act.relu" in text.out and "worst class" in text.out
    assert "[1/2]" in text.err  # progress on stderr
    doc = json.loads(out.read_text())
    assert doc["kind"] == "oracle-accuracy" and doc["seed"] == 3
    assert [r["op"] for r in doc["ops"]] == ["act.relu", "pool.max"]
    assert all(r["passed"] and r["examples"] > 0 for r in doc["ops"])
    # A bound below what the oracle reaches makes the command fail.
    monkeypatch.setitem(B.BOUNDS, "act.sigmoid", B.Bound(0, "ulp", "too tight on purpose"))
    assert cli.main(["accuracy", "--ops", "act.sigmoid", "--examples", "3", "--quiet"]) == 1
    assert "OVER BOUND" in capsys.readouterr().out
    assert cli.main(["accuracy", "--ops", "nothing.*"]) == 2
