"""Textbook derivative formulas of the ``attn`` family, in the tested dtype
(registry.OpSpec.textbook; signature (mode, args, kwargs, outs, seeds) -> list).

Why they are needed: every framework differentiates attention through the softmax's
backward from its saved weights P, dS = P * (dP - rowsum(dP * P)) (torch softmax_backward,
TF SoftmaxGrad, the transpose of jax.nn.softmax's custom JVP), and the fused kernels use
rowsum(dO * O) for the same row sum (FlashAttention's D, from the saved output O). Where a
row saturates (P ~ [1, 1e-6]) dP_j - rowsum(...) cancels: an absolute error of eps |dP|
against a true dS of order 1e-6, which the oracle's dual numbers (differentiating the
max-shifted exponentials) never make. tanh is differentiated from its output, 1 - t^2
(torch tanh_backward, TF TanhGrad), as in ``conformance.textbook.dense``. The products are the
standard ones (dV = P^T dO, dQ = scale dS K, dK = scale dS^T Q, projections by the chain
rule), each rounded to the tested dtype.

Kernels differ in where they round, so each hook evaluates three kernel formulas, one per
call that ``conformance.evaluate.textbook`` makes (it calls a hook with the outputs as
computed and one ulp above and below, and the bound takes the largest error):
* outputs as computed: the weights P as computed, D = rowsum(dP P), the scale applied to
  the product Q K^T (JAX, TF/Keras, torch's fused kernels' forward);
* outputs one ulp up: P one ulp up, D = rowsum(dO O) from the saved output
  (FlashAttention's backward, torch's flash/efficient/cuDNN SDPA);
* outputs one ulp down: P one ulp down, the scale split as sqrt(s) on q and on k (torch's
  MATH SDPA: docs/conventions/attention.md §SDPA).
In the calls one ulp up and down, the softmax's row sum D (rowsum(dP P), or its JVP
counterpart <P, dS>) moves one ulp up or down too: where dP - D cancels, one ulp of D is the
whole result, and a kernel that sums the row in another order is off by about that much.
The call is told apart by comparing the outputs with the oracle's own in the tested dtype.
Where the weights are an output (``attn.multi_head``, ``attn.additive_score/attention``),
the saved weights are that output itself; the additive scores' saved tanh outputs move one
ulp up and down with the variants too.

In forward mode the same difference, ds - <p, ds>, is a sum whose terms cancel where a row
saturates, and kernels add it in their own order (a few ulps of |ds|, more than one ulp of
D): the JVP outputs are ``Summed``, with the magnitudes of their terms
(``Core.jvp_magnitude``), so the bound's floor scales with |ds|, not with the survivor.
Reverse mode is ``Summed`` the same way (``Core.vjp_magnitude``, carried through the
projections of ``self_attention`` and ``multi_head``): dQ = scale dS K sums dS of both
signs over the keys, and dW = dY^T X over every position.

Each spec's hook is built for its ``grad_wrt`` (it returns one gradient per differentiated
argument, in that order, for "vjp", and the output tangents for "jvp").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from conformance.textbook import Summed
from conformance.textbook import absolute as _abs
from oracle import _canon
from oracle import attention as A

Hook = Callable[[str, list, dict, list, list], list]


def _mm(a: Any, b: Any) -> np.ndarray:
    # bfloat16 matmul returns float32 (ml_dtypes): round back to the tested dtype.
    return np.matmul(a, b).astype(np.result_type(a, b))


def _t(a: Any) -> Any:
    return np.swapaxes(a, -1, -2)


def _flat(a: Any) -> Any:
    return a.reshape(-1, a.shape[-1])


def variant(out: Any, reference: Any) -> int:
    """Which of evaluate.textbook's calls this is: 0 (outputs as computed), +1 or -1 (one
    ulp above or below): the sign of ``out - reference`` (the oracle's output)."""
    with np.errstate(invalid="ignore"):
        diff = np.asarray(out, np.float64) - np.asarray(reference, np.float64)
    return int(np.sign(np.nansum(np.sign(diff))))


def _moved(p: Any, step: int) -> Any:
    """Weights one ulp up or down (masked zeros stay 0)."""
    if step == 0:
        return p
    return np.where(p == 0, p, np.nextafter(p, p.dtype.type(np.inf * step)))


class Core:
    """One attention core (scores of q, k; weights p; output p v) differentiated by the
    formula of call ``step``."""

    def __init__(self, q: Any, k: Any, v: Any, p: Any, scale: Any, step: int) -> None:
        self.q, self.k, self.v, self.step = q, k, v, step
        self.p = _moved(p, step)
        # torch MATH multiplies q and k by sqrt(scale) each (step -1); the others scale S.
        self.root = np.sqrt(scale).astype(q.dtype) if step < 0 else None
        self.scale = np.asarray(scale, q.dtype)

    def _scores_rule(self, a: Any, b: Any) -> Any:
        """d(scale a b^T) applied to the product of a and b^T."""
        if self.root is None:
            return _mm(a, _t(b)) * self.scale
        return _mm(a * self.root, _t(b * self.root))

    def vjp(self, do: Any, dp_extra: Any = None) -> tuple[Any, Any, Any, Any]:
        p, v = self.p, self.v
        dv = _mm(_t(p), do)
        dp = _mm(do, _t(v)) if dp_extra is None else _mm(do, _t(v)) + dp_extra
        if self.step > 0:  # FlashAttention's D = rowsum(dO O), O the saved output
            d = np.sum(do * _mm(p, v), axis=-1, keepdims=True)
            if dp_extra is not None:  # the weights' own cotangent (no fused kernel has one)
                d = d + np.sum(dp_extra * p, axis=-1, keepdims=True)
        else:
            d = np.sum(dp * p, axis=-1, keepdims=True)
        ds = p * (dp - _moved(d, self.step))
        if self.root is None:
            return _mm(ds, self.k) * self.scale, _mm(_t(ds), self.q) * self.scale, dv, ds
        r = self.root
        return _mm(ds, self.k * r) * r, _mm(_t(ds), self.q * r) * r, dv, ds

    def jvp(self, tq: Any, tk: Any, tv: Any, tb: Any = None) -> tuple[Any, Any]:
        ds = self._scores_rule(tq, self.k) + self._scores_rule(self.q, tk)
        if tb is not None:
            ds = ds + tb
        p = self.p
        dp = p * (ds - _moved(np.sum(p * ds, axis=-1, keepdims=True), self.step))
        return _mm(dp, self.v) + _mm(p, tv), dp


    def vjp_magnitude(self, do: Any, dp_extra: Any = None) -> tuple[Any, Any, Any, Any]:
        """``vjp``'s outputs' terms' magnitudes (float64), as ``jvp_magnitude``: dS = P (dP -
        D) cancels where a row saturates, and dQ = scale dS K sums dS of both signs over
        the keys (torch float64, seed 4: d/dq 1.46x a bound scaled with the value)."""
        q, k, v, p = (_abs(a) for a in (self.q, self.k, self.v, self.p))
        scale = np.abs(np.float64(self.scale))
        do = _abs(do)
        dp = _t_mm(do, v) + (0.0 if dp_extra is None else _abs(dp_extra))
        ds = p * (dp + np.sum(dp * p, axis=-1, keepdims=True))
        return (scale * np.matmul(ds, k), scale * np.matmul(_t(ds), q),
                np.matmul(_t(p), do), ds)

    def jvp_magnitude(self, tq: Any, tk: Any, tv: Any, tb: Any = None) -> tuple[Any, Any]:
        """The sums of the magnitudes of the terms of ``jvp``'s outputs (float64): the
        formula on |inputs| with its one difference, ds - <p, ds>, made a sum. Where a row
        saturates (p ~ 1, large score tangents) that difference cancels and a kernel's row
        sum, in its own order, rounds to a few ulps of |ds| (XLA's, torch's): the bound's
        floor scales with these magnitudes (``Summed``), not with the surviving value."""
        q, k, v, p = (_abs(a) for a in (self.q, self.k, self.v, self.p))
        scale = np.abs(np.float64(self.scale))
        ds = scale * (_t_mm(_abs(tq), k) + _t_mm(q, _abs(tk)))
        if tb is not None:
            ds = ds + _abs(tb)
        dp = p * (ds + np.sum(p * ds, axis=-1, keepdims=True))
        return np.matmul(dp, v) + np.matmul(p, _abs(tv)), dp



def _t_mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, _t(b))


def _proj_magnitude(t: Any, x: Any, w: Any, tw: Any, tb: Any = 0.0) -> np.ndarray:
    """Magnitudes of the terms of the tangent t W^T + x tW^T (+ tb) of a projection."""
    return _t_mm(_abs(t), _abs(w)) + _t_mm(_abs(x), _abs(tw)) + _abs(tb)


def _scale(s: float | None, depth: int, dtype: Any) -> Any:
    return np.asarray(1.0 / np.sqrt(depth) if s is None else s, dtype=dtype)


def _or_zeros(t: Any, like: Any) -> Any:
    return np.zeros_like(like) if t is None else t


def _reduce_to(g: Any, shape: Sequence[int]) -> Any:
    """Sum a broadcast gradient back to ``shape`` (the axes of size 1)."""
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return np.sum(g, axis=axes, keepdims=True) if axes else g


def sdpa(wrt: Sequence[int]) -> Hook:
    """``attn.scaled_dot_product`` and its variants (args q, k, v, mask, bias)."""

    def hook(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
        q, k, v, mask, bias = args
        step = variant(outs[0], A.scaled_dot_product(*args, **kwargs))
        extra = {key: kwargs[key] for key in ("is_causal", "masked_rows") if key in kwargs}
        p = A.attention_weights(q, k, mask, bias, scale=kwargs.get("scale"), **extra)
        core = Core(q, k, v, p, _scale(kwargs.get("scale"), q.shape[-1], q.dtype), step)
        if mode == "jvp":
            t = dict(zip(wrt, seeds))
            tans = (_or_zeros(t.get(0), q), _or_zeros(t.get(1), k), _or_zeros(t.get(2), v),
                    t.get(4))
            return [Summed(core.jvp(*tans)[0], core.jvp_magnitude(*tans)[0])]
        got, mags = core.vjp(seeds[0]), core.vjp_magnitude(seeds[0])
        grads = {i: Summed(g, m) for i, (g, m) in enumerate(zip(got[:3], mags[:3]))}
        if 4 in wrt:
            grads[4] = Summed(_reduce_to(got[3], bias.shape), _reduce_to(mags[3], bias.shape))
        return [grads[i] for i in wrt]

    return hook


def truncated(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    q, k, v = args
    band = A.window_mask(q.shape[-2], k.shape[-2], kwargs["left"], kwargs["right"])
    return sdpa((0, 1, 2))(mode, [q, k, v, band, None], {"scale": kwargs.get("scale")},
                           outs, seeds)


def _project_vjp(x: Any, w: Any, dy: Any) -> tuple[Any, Any]:
    """y = x W^T: (dx = dy W, dW = dy^T x summed over every leading axis)."""
    return _mm(dy, w), _mm(_t(_flat(dy)), _flat(x))


def _project_vjp_magnitude(x: Any, w: Any, m: Any) -> tuple[np.ndarray, np.ndarray]:
    """``_project_vjp``'s terms' magnitudes for a cotangent of magnitudes m (float64)."""
    return np.matmul(m, _abs(w)), np.matmul(_t(_flat(m)), _flat(_abs(x)))


def self_attention(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    x, w_q, w_k, w_v = args
    step = variant(outs[0], A.self_attention(*args, **kwargs))
    q, k, v = _mm(x, w_q.T), _mm(x, w_k.T), _mm(x, w_v.T)
    scale = kwargs.get("scale", 1.0)
    core = Core(q, k, v, A.attention_weights(q, k, scale=scale),
                _scale(scale, w_q.shape[0], x.dtype), step)
    if mode == "jvp":
        tx, tq_w, tk_w, tv_w = seeds
        tq, tk = _mm(tx, w_q.T) + _mm(x, tq_w.T), _mm(tx, w_k.T) + _mm(x, tk_w.T)
        tv = _mm(tx, w_v.T) + _mm(x, tv_w.T)
        mags = (_proj_magnitude(tx, x, w, tw) for w, tw in ((w_q, tq_w), (w_k, tk_w),
                                                             (w_v, tv_w)))
        return [Summed(core.jvp(tq, tk, tv)[0], core.jvp_magnitude(*mags)[0])]
    dq, dk, dv, _ = core.vjp(seeds[0])
    (dxq, dwq), (dxk, dwk), (dxv, dwv) = (_project_vjp(x, w, dy) for w, dy in
                                          ((w_q, dq), (w_k, dk), (w_v, dv)))
    mq, mk, mv, _ = core.vjp_magnitude(seeds[0])
    (mxq, mwq), (mxk, mwk), (mxv, mwv) = (_project_vjp_magnitude(x, w, m) for w, m in
                                          ((w_q, mq), (w_k, mk), (w_v, mv)))
    return [Summed(dxq + dxk + dxv, mxq + mxk + mxv), Summed(dwq, mwq), Summed(dwk, mwk),
            Summed(dwv, mwv)]


def _additive_parts(q: Any, k: Any, w_q: Any, w_k: Any, v_a: Any) -> tuple[Any, Any]:
    t = np.tanh(_mm(q, w_q.T)[:, :, None, :] + _mm(k, w_k.T)[:, None, :, :])
    return t, _mm(t, v_a)


def _additive_jvp(args: list, tans: list, t: Any) -> Any:
    q, k, w_q, w_k, v_a = args
    tq, tk, twq, twk, tva = tans
    tpq = _mm(tq, w_q.T) + _mm(q, twq.T)
    tpk = _mm(tk, w_k.T) + _mm(k, twk.T)
    dpre = (1 - t * t) * (tpq[:, :, None, :] + tpk[:, None, :, :])
    return _mm(dpre, v_a) + _mm(t, tva)


def _additive_vjp(args: list, t: Any, dscore: Any) -> list:
    q, k, w_q, w_k, v_a = args
    dpre = dscore[..., None] * v_a * (1 - t * t)  # (N, L, S, A)
    dpq, dpk = np.sum(dpre, axis=2), np.sum(dpre, axis=1)
    dq, dwq = _project_vjp(q, w_q, dpq)
    dk, dwk = _project_vjp(k, w_k, dpk)
    dva = np.sum(_flat(dscore[..., None] * t), axis=0)
    return [dq, dk, dwq, dwk, dva]


def additive_score(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    t, _ = _additive_parts(*args)
    # The kernels' saved tanh outputs carry their own rounding: one ulp up or down too.
    t = _moved(t, variant(outs[0], A.additive_score(*args)))
    if mode == "jvp":
        return [_additive_jvp(args, seeds, t)]
    return _additive_vjp(args, t, seeds[0])


def _softmax_back(p: Any, dp: Any, step: int) -> Any:
    return p * (dp - _moved(np.sum(dp * p, axis=-1, keepdims=True), step))


def additive_attention(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    q, k, value, w_q, w_k, v_a, mask = args
    inner = [q, k, w_q, w_k, v_a]
    t, _ = _additive_parts(*inner)
    ref = A.additive_attention(*args, **kwargs)
    step = variant(outs[0], ref.output)
    t = _moved(t, step)  # the saved tanh outputs, as in additive_score
    p = outs[1]  # the weights, saved (and moved one ulp by the caller's variants)
    if mode == "jvp":
        tq, tk, tval, twq, twk, tva = seeds
        dscore = _additive_jvp(inner, [tq, tk, twq, twk, tva], t)
        dp = _softmax_back(p, dscore, step)
        ap = _abs(p)  # the softmax's difference cancels where a row saturates (Core)
        dp_mag = ap * (_abs(dscore) + np.sum(ap * _abs(dscore), axis=-1, keepdims=True))
        return [Summed(_mm(dp, value) + _mm(p, tval),
                       np.matmul(dp_mag, _abs(value)) + np.matmul(ap, _abs(tval))),
                Summed(dp, dp_mag)]
    do, dw = seeds
    dval = _mm(_t(p), do)
    dscore = _softmax_back(p, _mm(do, _t(value)) + dw, step)
    dq, dk, dwq, dwk, dva = _additive_vjp(inner, t, dscore)
    return [dq, dk, dval, dwq, dwk, dva]


def _heads(x: Any, n: int) -> Any:
    b, length, f = x.shape
    return np.swapaxes(x.reshape(b, length, n, f // n), 1, 2)


def _merge(x: Any) -> Any:
    b, h, length, d = x.shape
    return np.swapaxes(x, 1, 2).reshape(b, length, h * d)


def _multi_head_vjp_magnitude(core: Core, xs: tuple, ws: tuple, concat: Any, w_o: Any,
                              dout: Any, dp_extra: Any, heads: int) -> dict[int, np.ndarray]:
    """The terms' magnitudes of ``multi_head``'s reverse mode, by argument position."""
    mconcat, mwo = _project_vjp_magnitude(concat, w_o, _abs(dout))
    extra = None if dp_extra is None else _abs(dp_extra)
    parts = core.vjp_magnitude(_heads(mconcat, heads), extra)[:3]
    mags = {6: mwo, 10: np.sum(_flat(_abs(dout)), axis=0)}
    for i, (x, w, m) in enumerate(zip(xs, ws, parts)):
        m = _merge(m)
        mags[i], mags[i + 3] = _project_vjp_magnitude(x, w, m)
        mags[i + 7] = np.sum(_flat(m), axis=0)
    return mags


def multi_head(wrt: Sequence[int], weights: bool) -> Hook:
    """``attn.multi_head`` (weights: outputs (out, weights)) or ``/no_weights`` (out)."""

    def hook(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
        query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o, mask = args
        heads, average = kwargs["num_heads"], kwargs.get("average_weights", False)
        ref = _canon.flatten_outputs(A.multi_head(*args, **kwargs))[0]
        step = variant(outs[0], ref)
        proj = [_mm(x, w.T) + b for x, w, b in ((query, w_q, b_q), (key, w_k, b_k),
                                               (value, w_v, b_v))]
        q, k, v = (_heads(y, heads) for y in proj)
        p = A.attention_weights(q, k, None if mask is None else mask[:, None])
        core = Core(q, k, v, p, _scale(None, q.shape[-1], q.dtype), step)
        concat = _merge(_mm(core.p, v))
        if mode == "jvp":
            t = dict(zip(wrt, seeds))
            tan = [t.get(i, np.zeros_like(a)) for i, a in enumerate(args[:11])]
            tp = [_mm(tan[i], w.T) + _mm(x, tan[i + 3].T) + tan[i + 7]
                  for i, (x, w) in enumerate(((query, w_q), (key, w_k), (value, w_v)))]
            do, dp = core.jvp(*(_heads(y, heads) for y in tp))
            tout = _mm(_merge(do), w_o.T) + _mm(concat, tan[6].T) + tan[10]
            mags = (_heads(_proj_magnitude(tan[i], x, w, tan[i + 3], tan[i + 7]), heads)
                    for i, (x, w) in enumerate(((query, w_q), (key, w_k), (value, w_v))))
            do_m, dp_m = core.jvp_magnitude(*mags)
            tout_m = _t_mm(_merge(do_m), _abs(w_o)) + _t_mm(_abs(concat), _abs(tan[6])) + \
                _abs(tan[10])
            tout = Summed(tout, tout_m)
            if not weights:
                return [tout]
            return [tout, Summed(np.mean(dp, axis=1), np.mean(dp_m, axis=1)) if average
                    else Summed(dp, dp_m)]
        dout = seeds[0]
        dp_extra = None
        if weights:
            dw = seeds[1]
            dp_extra = np.broadcast_to(dw[:, None] / heads, p.shape) if average else dw
        dconcat, dwo = _project_vjp(concat, w_o, dout)
        dq, dk, dv, _ = core.vjp(_heads(dconcat, heads), dp_extra)
        grads = {6: dwo, 10: np.sum(_flat(dout), axis=0)}
        for i, (x, w, dy) in enumerate(((query, w_q, dq), (key, w_k, dk), (value, w_v, dv))):
            dy = _merge(dy)
            grads[i], grads[i + 3] = _project_vjp(x, w, dy)
            grads[i + 7] = np.sum(_flat(dy), axis=0)
        mags = _multi_head_vjp_magnitude(core, (query, key, value), (w_q, w_k, w_v), concat,
                                         w_o, dout, dp_extra, heads)
        return [Summed(grads[i], mags[i]) for i in wrt]

    return hook
