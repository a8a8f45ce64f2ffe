"""TensorFlow's forward mode is the transposed vjp (two nested GradientTapes): J u against
hand values, through a gather (whose gradient is IndexedSlices) and beside an integer
output; where a backward kernel is missing it runs ForwardAccumulator instead, with the
same tangents; each check's record names the form that ran (``last_path``)."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from adapters.tensorflow import TensorFlowAdapter  # noqa: E402
from adapters.tensorflow._lazy import tf  # noqa: E402


@pytest.fixture(scope="module")
def adapter():
    a = TensorFlowAdapter()
    a.setup()
    return a


def _f(x, w):
    """(sin(x) * w[idx], argmax(x)): a gather, and an integer output without a tangent."""
    picked = tf.gather(w, [2, 0, 1])
    return tf.sin(x) * picked, tf.argmax(x)


def _jvp(adapter, x, w, tx, tw):
    args = [tf.constant(x), tf.constant(w)]
    outs, tans = adapter.jvp(_f, args, [0, 1], [tf.constant(tx), tf.constant(tw)])
    return [t.numpy() for t in tans], adapter.last_path


X, W = np.array([0.3, -1.2, 2.0]), np.array([1.5, -0.5, 4.0])
TX, TW = np.array([1.0, 2.0, -1.0]), np.array([0.25, 1.0, -2.0])
# d(sin(x) w[idx]) = cos(x) w[idx] dx + sin(x) dw[idx]
EXPECTED = np.cos(X) * W[[2, 0, 1]] * TX + np.sin(X) * TW[[2, 0, 1]]


def test_the_transposed_vjp_gives_j_u(adapter):
    (t, t_int), path = _jvp(adapter, X, W, TX, TW)
    np.testing.assert_allclose(t, EXPECTED, rtol=1e-14)
    assert t_int.dtype.kind in "iu" and not t_int.any()
    assert path == "eager, transposed vjp"


def test_a_missing_backward_kernel_falls_back_to_forward_accumulator(adapter, monkeypatch):
    def missing(*_):
        raise tf.errors.InvalidArgumentError(None, None, "no CPU kernel for dilation > 1")

    monkeypatch.setattr(adapter, "_transposed_vjp", missing)
    (t, _), path = _jvp(adapter, X, W, TX, TW)
    np.testing.assert_allclose(t, EXPECTED, rtol=1e-14)
    assert path == "eager, ForwardAccumulator"


def test_reverse_mode_and_values_say_eager(adapter):
    _jvp(adapter, X, W, TX, TW)
    args = [tf.constant(X), tf.constant(W)]
    adapter.vjp(_f, args, [0, 1], [tf.ones(3, tf.float64), None])
    assert adapter.last_path == "eager"
