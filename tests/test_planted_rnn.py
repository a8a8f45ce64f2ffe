"""A GRU that applies the reset gate after the matrix product, where the notes' GRU
(rnn.gru) asks for it before, is caught by the conformance suite; a correct hand-written
reset-before GRU passes. Likewise an LSTM cell given the canonical gate blocks [u, f, o, c']
in torch's order [i, f, g, o] without reordering them (the gate-order mistake) is caught,
and the same cell with the blocks reordered passes. All are user adapters overriding one op
of the torch adapter, run through the real suite in a subprocess."""

import textwrap

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch")

ADAPTERS = textwrap.dedent('''
    import torch
    import torch.nn.functional as F
    from adapters.base import implements
    from adapters.torch import TorchAdapter
    from adapters.torch.rnn import layer_params


    class ResetAfterGRU(TorchAdapter):
        """The tempting shortcut: torch's GRUCell, weights mapped correctly (gate order,
        z = 1 - u), but its reset gate acts after W_hn h."""

        @implements("rnn.gru")
        def gru(self, x, h, w_x, w_h, b, b_h=None, *, reset="before"):
            cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).to(x.dtype)
            params = layer_params("gru", w_x, w_h, b, b_h)
            return torch.func.functional_call(cell, params, (x, h))


    class ResetBeforeGRU(TorchAdapter):
        """A correct kernel written by hand: r * h, then the product."""

        @implements("rnn.gru")
        def gru(self, x, h, w_x, w_h, b, b_h=None, *, reset="before"):
            n = h.shape[1]
            zx = F.linear(x, w_x, b)
            u = torch.sigmoid(zx[:, :n] + h @ w_h[:n].T)
            r = torch.sigmoid(zx[:, n:2 * n] + h @ w_h[n:2 * n].T)
            c = torch.tanh(zx[:, 2 * n:] + (r * h) @ w_h[2 * n:].T)
            return u * c + (1 - u) * h


    def lstm_cell(x, h, c, w_x, w_h, b, order):
        n = h.shape[1]
        blocks = lambda w: torch.cat([w[k * n:(k + 1) * n] for k in order], dim=0)
        cell = torch.nn.LSTMCell(x.shape[1], n).to(x.dtype)
        params = {"weight_ih": blocks(w_x), "weight_hh": blocks(w_h), "bias_ih": blocks(b),
                  "bias_hh": torch.zeros_like(b)}
        return torch.func.functional_call(cell, params, (x, (h, c)))


    class LSTMGatesAsIs(TorchAdapter):
        """The canonical blocks [u, f, o, c'] handed to LSTMCell ([i, f, g, o]) unchanged:
        the output gate becomes the candidate and the candidate the output gate."""

        @implements("rnn.lstm")
        def lstm(self, x, h, c, w_x, w_h, b):
            return lstm_cell(x, h, c, w_x, w_h, b, (0, 1, 2, 3))


    class LSTMGatesReordered(TorchAdapter):
        """The same cell with the blocks reordered to torch's [u, f, c', o]."""

        @implements("rnn.lstm")
        def lstm(self, x, h, c, w_x, w_h, b):
            return lstm_cell(x, h, c, w_x, w_h, b, (0, 1, 3, 2))
''')


@pytest.fixture
def user_pkg(tmp_path):
    (tmp_path / "planted_rnn.py").write_text(ADAPTERS)
    return tmp_path


def test_reset_after_where_before_was_asked_is_caught(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_rnn:ResetAfterGRU", "--ops", "rnn.gru",
                           "--dtype", "float64", "--seed", "1", "--examples", "5",
                           "--results", str(out), "-k", "test_forward", extra_path=user_pkg)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "rnn.gru forward on torch" in proc.stdout and "float64" in proc.stdout
    assert "disagrees with the oracle" in proc.stdout
    (fail,) = [r for r in records(out) if r["verdict"] == "fail"]
    # Not a rounding matter: the kernel computes another function (error >> the bound).
    assert fail["ratio"] > 1e6 and fail["max_abs_err"] > 1e-3
    assert [a["name"] for a in fail["case"]["args"]] == ["x", "h", "w_x", "w_h", "b"]


def test_the_correct_reset_before_gru_passes(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_rnn:ResetBeforeGRU", "--ops", "rnn.gru",
                           "--seed", "1", "--examples", "5", "--results", str(out),
                           extra_path=user_pkg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recs = records(out)
    assert recs and all(r["verdict"] == "pass" for r in recs)
    # values, reverse and forward mode, in every dtype torch has
    assert {r["mode"] for r in recs} == {"forward", "vjp", "jvp"}
    assert {r["dtype"] for r in recs} == {"float64", "float32", "float16", "bfloat16"}


def test_lstm_gate_order_not_mapped_is_caught(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_rnn:LSTMGatesAsIs", "--ops", "rnn.lstm",
                           "--dtype", "float64", "--seed", "1", "--examples", "5",
                           "--results", str(out), "-k", "test_forward", extra_path=user_pkg)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "rnn.lstm forward on torch" in proc.stdout
    assert "disagrees with the oracle" in proc.stdout
    (fail,) = [r for r in records(out) if r["verdict"] == "fail"]
    # Another function, not rounding: the swapped gates change h and c by O(1).
    assert fail["ratio"] > 1e6 and fail["max_abs_err"] > 1e-3
    assert fail["worst"]["output"] in ("h", "c")


def test_lstm_gates_reordered_pass(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_rnn:LSTMGatesReordered", "--ops", "rnn.lstm",
                           "--dtype", "float64,float32", "--seed", "1", "--examples", "5",
                           "--results", str(out), extra_path=user_pkg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recs = records(out)
    assert recs and all(r["verdict"] == "pass" for r in recs)
    assert {r["mode"] for r in recs} == {"forward", "vjp", "jvp"}
