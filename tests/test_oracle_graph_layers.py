"""The message-passing graph oracle (oracle/graph/layers.py, deep.py) against hand-computed
values and independent constructions (dense matrices, explicit loops over neighbours)."""

import numpy as np
import pytest

from oracle import _canon, autodiff
from oracle import graph as GR
from oracle.activations import sigmoid


def both(pairs):
    src = [a for a, b in pairs] + [b for a, b in pairs]
    dst = [b for a, b in pairs] + [a for a, b in pairs]
    return np.array([src, dst])


def test_gcn_on_a_hand_computed_three_node_graph():
    """Path 0 - 1 - 2, unit weights. A + I has degrees 2, 3, 2, so
    A_hat = [[1/2, 1/sqrt6, 0], [1/sqrt6, 1/3, 1/sqrt6], [0, 1/sqrt6, 1/2]]."""
    ei = both([(0, 1), (1, 2)])
    x = np.array([[1.0], [2.0], [4.0]])
    w = np.array([[1.0]])
    r6 = 1 / np.sqrt(6)
    expect = np.array([[0.5 * 1 + r6 * 2], [r6 * 1 + 2 / 3 + r6 * 4], [r6 * 2 + 0.5 * 4]])
    assert np.allclose(GR.gcn(x, ei, None, w), expect, rtol=1e-15)
    # improved: A + 2I, degrees 3, 4, 3
    imp = GR.gcn(x, ei, None, w, improved=True)
    assert np.isclose(imp[0, 0], 2 / 3 * 1 + 2 / np.sqrt(12))
    # bias and a 2-channel weight (out, in) layout
    w2 = np.array([[1.0], [-2.0]])
    out = GR.gcn(x, ei, None, w2, np.array([0.5, 0.0]))
    assert np.allclose(out, np.concatenate([expect + 0.5, -2 * expect], axis=1))


def test_gcn_self_loop_conventions():
    ei = np.array([[0, 1, 1], [1, 0, 1]])  # an edge both ways and a loop at 1 (weight 3)
    w = np.array([1.0, 1.0, 3.0])
    x = np.eye(2)
    ident = np.eye(2)
    # "add": A + I -> node 1's loop weight 4, degrees 2 and 5
    add = GR.gcn(x, ei, w, ident)
    assert np.allclose(add, [[1 / 2, 1 / np.sqrt(10)], [1 / np.sqrt(10), 4 / 5]])
    # "remaining": node 1 keeps its loop 3, node 0 gets 1 -> degrees 2 and 4
    rem = GR.gcn(x, ei, w, ident, self_loops="remaining")
    assert np.allclose(rem, [[1 / 2, 1 / np.sqrt(8)], [1 / np.sqrt(8), 3 / 4]])
    with pytest.raises(ValueError, match="two loops"):
        GR.gcn(x, np.array([[1, 1], [1, 1]]), None, ident, self_loops="remaining")


def test_sage_aggregators_by_hand():
    ei = np.array([[0, 2, 2], [1, 1, 0]])  # into 1: from 0 and 2; into 0: from 2; 2: none
    x = np.array([[1.0, -1.0], [2.0, 0.0], [3.0, 5.0]])
    eye, zero = np.eye(2), np.zeros((2, 2))
    b0 = np.zeros(2)
    assert np.allclose(GR.aggregate(x, ei, eye, b0, zero, aggr="sum"), [[3, 5], [4, 4], [0, 0]])
    assert np.allclose(GR.aggregate(x, ei, eye, b0, zero, aggr="mean"), [[3, 5], [2, 2], [0, 0]])
    pooled = GR.aggregate(x, ei, eye, b0, zero, eye, np.array([0.0, 0.0]), aggr="max_pool")
    assert np.allclose(pooled, [[3, 5], [3, 5], [0, 0]])  # relu(-1) = 0 < 5
    root = GR.aggregate(x, ei, zero, np.array([1.0, 2.0]), 2 * eye, aggr="mean")
    assert np.allclose(root, 2 * x + [1, 2])


def lstm_reference(seq, w_ih, w_hh, b):
    hid = w_hh.shape[1]
    h, c = np.zeros(hid), np.zeros(hid)
    for xt in seq:
        z = w_ih @ xt + w_hh @ h + b
        i, f, g, o = (z[k * hid:(k + 1) * hid] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    return h


def test_lstm_aggregator_follows_edge_order_and_padding():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2))
    ei = np.array([[2, 0, 3, 1], [1, 1, 1, 0]])  # into 1: 2, 0, 3 (edge order); into 0: 1
    w_ih, w_hh, b = (rng.standard_normal(s) for s in ((8, 2), (8, 2), (8,)))
    eye, zero, b0 = np.eye(2), np.zeros((2, 2)), np.zeros(2)
    got = GR.aggregate(x, ei, eye, b0, zero, w_ih, w_hh, b, aggr="lstm")
    assert np.allclose(got[1], lstm_reference(x[[2, 0, 3]], w_ih, w_hh, b))
    assert np.allclose(got[0], lstm_reference(x[[1]], w_ih, w_hh, b))
    assert np.allclose(got[2:], 0)  # no neighbours
    padded = GR.aggregate(x, ei, eye, b0, zero, w_ih, w_hh, b, aggr="lstm",
                          lstm_padding="max_degree")
    assert np.allclose(padded[0], lstm_reference(np.vstack([x[[1]], np.zeros((2, 2))]),
                                                 w_ih, w_hh, b))
    assert np.allclose(padded[2], lstm_reference(np.zeros((3, 2)), w_ih, w_hh, b))


def test_gat_attention_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    ei = np.array([[0, 1, 2, 1], [1, 0, 1, 1]])  # the loop at 1 is replaced by one loop
    w = np.eye(2)
    zero = np.zeros((1, 2))
    # no attention parameters: uniform weights over N(t) and t itself
    out = GR.gat(x, ei, w, zero, zero)
    assert np.allclose(out[1], (x[0] + x[2] + x[1]) / 3)
    assert np.allclose(out[0], (x[1] + x[0]) / 2) and np.allclose(out[2], x[2])
    # a_src picks the first channel: e_s1 = LeakyReLU(x_s[0]) = 1, 0, 1 for s = 0, 1, 2
    a_src = np.array([[1.0, 0.0]])
    got = GR.gat(x, ei, w, a_src, zero, negative_slope=0.2)[1]
    e = np.exp([1.0, 0.0, 1.0])
    assert np.allclose(got, (e[0] * x[0] + e[1] * x[1] + e[2] * x[2]) / e.sum())
    # negative logits take the slope; two heads averaged equal the single head
    a_neg = np.array([[-1.0, 0.0]])
    e = np.exp([-0.2, 0.0, -0.2])
    assert np.allclose(GR.gat(x, ei, w, a_neg, zero)[1],
                       (e[0] * x[0] + e[1] * x[1] + e[2] * x[2]) / e.sum())
    two = GR.gat(x, ei, np.vstack([w, w]), np.vstack([a_src, a_src]), np.zeros((2, 2)),
                 concat=False)
    assert np.allclose(two, GR.gat(x, ei, w, a_src, zero))


def test_gin_and_diffusion_by_hand():
    ei = np.array([[0, 2, 2], [1, 1, 0]])
    x = np.array([[1.0], [2.0], [3.0]])
    one = np.array([[1.0]])
    # an MLP that is the identity on positive inputs: relu(z) * 1
    out = GR.gin(x, ei, one, np.array([0.0]), one, np.array([0.0]), eps=0.5)
    assert np.allclose(out, [[1.5 + 3], [3 + 1 + 3], [4.5]])
    w = np.array([1.0, 3.0, 1.0])  # into 1: 0 (1) and 2 (3): P row 1 = [1/4, 0, 3/4]
    p = np.array([[0, 0, 1.0], [0.25, 0, 0.75], [0, 0, 0]])
    feats = GR.diffusion(x, ei, w, hops=2)
    assert np.allclose(feats[:, 0], p @ x) and np.allclose(feats[:, 1], p @ p @ x)
    wk = np.array([[[2.0]], [[-1.0]], [[0.5]]])
    dgc = GR.diffusion(x, ei, w, wk, np.array([1.0]), mode="dgc", hops=2)
    assert np.allclose(dgc, 2 * x - p @ x + 0.5 * p @ p @ x + 1)


def test_monet_gaussian_weights():
    ei = np.array([[0, 1], [1, 1]])
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    pseudo = np.array([[0.0, 1.0], [1.0, 1.0]])
    g = np.stack([np.eye(2), 2 * np.eye(2)])
    mu = np.array([[0.0, 1.0], [1.0, 0.0]])
    sigma = np.array([[1.0, 1.0], [1.0, 0.5]])
    # edge 0 (u = (0, 1)): w_0 = 1, w_1 = exp(-(1 + 4) / 2); edge 1 (u = (1, 1)): w_0 =
    # exp(-1/2), w_1 = exp(-4 / 2)
    into1 = (1 + 2 * np.exp(-2.5)) * x[0] + (np.exp(-0.5) + 2 * np.exp(-2.0)) * x[1]
    out = GR.monet(x, ei, pseudo, g, mu, sigma)
    assert np.allclose(out, [[0, 0], into1])
    mean = GR.monet(x, ei, pseudo, g, mu, sigma, np.eye(2), np.array([1.0, 0.0]), aggr="mean")
    assert np.allclose(mean, [x[0] + [1, 0], into1 / 2 + x[1] + [1, 0]])
    eps = GR.monet(x, ei, pseudo, g, mu, sigma, sigma_eps=1e-15)
    assert np.allclose(eps, out, rtol=1e-13) and not np.array_equal(eps, out)


def test_readout_with_empty_graphs():
    x = np.array([[1.0, -2.0], [3.0, 4.0], [-5.0, 0.5]])
    batch = np.array([2, 0, 2])
    assert np.allclose(GR.readout(x, batch, num_graphs=4), [[3, 4], [0, 0], [-4, -1.5], [0, 0]])
    assert np.allclose(GR.readout(x, batch, num_graphs=4, reduce="mean"),
                       [[3, 4], [0, 0], [-2, -0.75], [0, 0]])
    assert np.allclose(GR.readout(x, batch, num_graphs=4, reduce="max"),
                       [[3, 4], [0, 0], [1, 0.5], [0, 0]])


def test_knn_graph_ties_by_index_and_dilation():
    pos = np.array([[0, 0], [1, 0], [-1, 0], [0, 2], [0, 0]])  # 4 sits on 0
    ei = GR.knn_graph(pos, k=2)
    into0 = ei[0][ei[1] == 0]
    assert list(into0) == [4, 1]  # 4 at distance 0, then 1 and 2 tie at 1: the lower index
    into0 = GR.knn_graph(pos, k=2, self_loops=True)[0][ei[1] == 0]
    assert list(into0) == [0, 4]
    dil = GR.knn_graph(pos, k=2, dilation=2)  # order for 0: 4, 1, 2, 3 -> every 2nd: 4, 2
    assert list(dil[0][dil[1] == 0]) == [4, 2]


def test_edge_conv_is_a_max_over_the_knn_messages():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 2))
    pos = rng.integers(-3, 4, (6, 2))
    w, b = rng.standard_normal((3, 4)), rng.standard_normal(3)
    out = GR.edge_conv(x, pos, w, b, k=2)
    src, dst = GR.knn_graph(pos, k=2)
    for t in range(6):
        msgs = [np.maximum(w @ np.concatenate([x[t], x[s] - x[t]]) + b, 0) for s in src[dst == t]]
        assert np.allclose(out[t], np.max(msgs, axis=0))


def test_residual_and_dense_stacks():
    rng = np.random.default_rng(2)
    ei = both([(0, 1), (1, 2), (2, 3)])
    x = rng.standard_normal((4, 3))
    w1, b1, w2, b2 = rng.standard_normal((3, 3)), rng.standard_normal(3), \
        rng.standard_normal((3, 3)), rng.standard_normal(3)
    h1 = x + np.tanh(GR.gcn(x, ei, None, w1, b1))
    assert np.allclose(GR.residual_dense(x, ei, None, w1, b1, w2, b2),
                       h1 + np.tanh(GR.gcn(h1, ei, None, w2, b2)))
    pre = GR.residual_dense(x, ei, None, w1, b1, block="res+")
    assert np.allclose(pre, x + GR.gcn(np.tanh(x), ei, None, w1, b1))
    d1, e1 = rng.standard_normal((2, 3)), rng.standard_normal(2)
    d2, e2 = rng.standard_normal((2, 5)), rng.standard_normal(2)
    dense = GR.residual_dense(x, ei, None, d1, e1, d2, e2, block="dense")
    assert dense.shape == (4, 7) and np.allclose(dense[:, :3], x)
    assert np.allclose(dense[:, 3:5], np.tanh(GR.gcn(x, ei, None, d1, e1)))


@pytest.mark.parametrize("op,args", [
    (GR.gcn, lambda r: (r.standard_normal((4, 3)), both([(0, 1), (1, 2), (2, 3)]),
                        r.uniform(0.5, 2, 6), r.standard_normal((2, 3)), r.standard_normal(2))),
    (GR.gat, lambda r: (r.standard_normal((4, 3)), both([(0, 1), (1, 2), (2, 3)]),
                        r.standard_normal((4, 3)), r.standard_normal((2, 2)),
                        r.standard_normal((2, 2)))),
], ids=["gcn", "gat"])
def test_layers_run_in_bfloat16_and_on_duals(op, args):
    import ml_dtypes

    a = list(args(np.random.default_rng(3)))
    with _canon.compute_dtype(ml_dtypes.bfloat16):
        assert op(*[v.astype(ml_dtypes.bfloat16) if v.dtype.kind == "f" else v
                    for v in a]).dtype == ml_dtypes.bfloat16
    tangents = {0: np.ones_like(a[0])}
    outs, tans = autodiff.jvp(op, a, {}, tangents)
    h = 1e-6
    plus = op(a[0] + h, *a[1:])
    minus = op(a[0] - h, *a[1:])
    assert np.allclose(tans[0], (plus - minus) / (2 * h), atol=1e-7)
