"""Specs of the ``attn`` family (notes 004 "self-attention").

Variants of ``attn.scaled_dot_product`` (one spec each, so that a divergence names exactly
the checks it covers):
  (base)              no mask or a boolean one (random, all-but-one, a window), drawn scale
  /additive_mask      a float mask added to the scores (finite, with -2^12 "soft" masks),
                      differentiated too (a learned relative-position bias)
  /additive_mask_inf  a float mask with -inf entries (never a whole row)
  /causal             is_causal, L != S too (top-left alignment)
  /fully_masked_rows  boolean masks with at least one row masked everywhere: the canonical
                      convention is "zeros" (oracle/attention.py)
  /flash, /efficient, /cudnn
                      the fused kernels (torch SDPA backends, JAX's cuDNN implementation),
                      each its own spec so that a record names the kernel that ran; mask
                      kinds none / boolean / additive / causal, head dim 8 (the GPU kernels'
                      granularity)
torch runs the feature variants (all but the last three) with the MATH backend pinned.

Values come from a seeded NumPy generator (the harness rounds them to the tested dtype);
hypothesis draws the geometry (small fixed menus: JAX compiles per shape), the mask kind and
the regime. q and k are z * 2^t with z uniform in [-1, 1] and t in {-1, 0, 1, 2}: scores of
order 1 (a soft softmax) up to several hundred (saturated: one weight ~1, the others below
e^-100). Sequence lengths up to 16, heads up to 3, head dims 2 to 8.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance.registry import Case, OpSpec, register
from conformance.textbook import attention as TB
from conformance.vocabulary import FLOAT_DTYPES
from oracle import attention as A

# Menus. JAX compiles per shape, dtype, mode and static hyper-parameter (None or not), so
# each menu entry carries its shapes and the statics that go with it: (N, H, L, S, E), the
# mask kinds drawn for it (kinds of one entry share one argument structure), the leading
# shape of its mask or bias (broadcast over batch and heads, over heads, or full) and its
# scale (None = 1/sqrt(E), or a drawn dyadic value). The first entry of each keeps q, k, v
# within the full-Jacobian check (<= 64 elements).
Entry = tuple[tuple[int, ...], tuple[str, ...], str, str]
SDPA_MENU: list[Entry] = [
    ((1, 1, 2, 3, 2), ("none",), "11", "drawn"),
    ((1, 2, 5, 7, 3), ("random", "all_but_one", "window"), "11", "drawn"),
    ((2, 1, 16, 16, 4), ("random", "window"), "nh", "drawn"),
]
ADDITIVE_MENU: list[Entry] = [
    ((1, 1, 2, 3, 2), ("additive",), "11", "drawn"),
    ((1, 2, 5, 7, 3), ("additive",), "n1", "drawn"),
    ((2, 1, 16, 16, 4), ("additive",), "nh", "drawn"),
]
ADDITIVE_INF_MENU: list[Entry] = [(shape, ("additive_inf",), lead, scale)
                                  for shape, _, lead, scale in ADDITIVE_MENU]
CAUSAL_MENU: list[Entry] = [
    ((1, 1, 2, 3, 2), ("causal",), "11", "none"),
    ((1, 2, 7, 5, 3), ("causal",), "11", "none"),
    ((2, 1, 16, 16, 4), ("causal",), "11", "none"),
]
FULLY_MASKED_MENU: list[Entry] = [
    ((1, 1, 3, 3, 2), ("fully_masked",), "11", "drawn"),
    ((2, 2, 6, 5, 3), ("fully_masked",), "nh", "drawn"),
]
KERNEL_MENU: list[Entry] = [
    ((1, 1, 3, 5, 8), ("none", "random", "additive", "causal"), "11", "drawn"),
    ((2, 2, 8, 8, 8), ("none", "random", "additive", "causal"), "nh", "none"),
]
# (N, H, L, E) and the windows (left, right) drawn for it (static in JAX and flex).
TRUNCATED_MENU = [((1, 1, 3, 2), [(0, 0), (1, 1)]), ((1, 2, 6, 3), [(2, 0), (0, 3)]),
                  ((2, 1, 16, 4), [(4, 2)])]
WINDOWS = [(0, 0), (1, 1), (2, 0), (0, 3), (4, 2)]
POSITIONAL_MENU = [((1,), 1, "interleaved"), ((4,), 5, "interleaved"),
                   ((2, 5), 6, "concatenated"), ((16,), 8, "interleaved")]
TEMPS = (-1, 0, 1, 2)
SCALES = st.sampled_from([1.0, 0.5, 0.375, 0.125, 2.0])
QKV = ("q", "k", "v", "mask", "bias")


class Draw:
    """One example's arrays: a seeded generator plus the drawn saturation regime."""

    def __init__(self, d: st.DrawFn) -> None:
        self.rng = np.random.default_rng(d(st.integers(0, 2**32 - 1)))
        self.temp = 2.0 ** d(st.sampled_from(TEMPS))

    def uniform(self, shape: tuple[int, ...], bound: float = 1.0) -> np.ndarray:
        return self.rng.uniform(-bound, bound, shape)

    def qk(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.uniform(shape, self.temp)

    def nonempty(self, mask: np.ndarray) -> np.ndarray:
        """Each row (last axis) keeps at least one True: an empty row gets a random key."""
        mask = mask.copy()
        empty = ~mask.any(axis=-1)
        pick = self.rng.integers(0, mask.shape[-1], empty.shape)
        mask[empty, pick[empty]] = True
        return mask

    def bool_mask(self, d: st.DrawFn, lead: tuple[int, int], length: int, source: int,
                  kind: str) -> np.ndarray:
        """A 4-d boolean mask (lead broadcast over batch and heads): "random" (each key
        kept with probability 1/2), "all_but_one" (one key per row), "window" (a band)."""
        shape = (*lead, length, source)
        if kind == "window":
            left, right = d(st.sampled_from(WINDOWS))
            band = A.window_mask(length, source, left, right)
            return self.nonempty(np.broadcast_to(band, shape))
        if kind == "all_but_one":
            keep = self.rng.integers(0, source, shape[:-1])
            return np.arange(source) == keep[..., None]
        return self.nonempty(self.rng.random(shape) < 0.5)

    def bias(self, shape: tuple[int, ...], hole: float | None) -> np.ndarray:
        """Additive mask values in [-4, 4]; a quarter of the entries set to ``hole``
        (-2^12 or -inf), never a whole row."""
        b = self.uniform(shape, 4.0)
        if hole is not None:
            holes = ~self.nonempty(~(self.rng.random(shape) < 0.25))
            b[holes] = hole
        return b


def _sdpa_case(d: st.DrawFn, menu: list[Entry]) -> Case:
    (n, h, length, source, e), kinds, lead_kind, scale_kind = d(st.sampled_from(menu))
    g = Draw(d)
    q, k = g.qk((n, h, length, e)), g.qk((n, h, source, e))
    v = g.uniform((n, h, source, e), 2.0)
    kind = d(st.sampled_from(kinds))
    lead = {"11": (1, 1), "n1": (n, 1), "nh": (n, h)}[lead_kind]
    mask = bias = None
    kwargs: dict[str, Any] = {"scale": d(SCALES) if scale_kind == "drawn" else None}
    if kind in ("random", "all_but_one", "window"):
        mask = g.bool_mask(d, lead, length, source, kind)
    elif kind == "fully_masked":
        mask = g.bool_mask(d, lead, length, source, "random")
        # At least one row masked everywhere and at least one not: an output that is 0
        # everywhere would leave the bound nothing to scale with.
        rows = g.rng.random(mask.shape[:-1]) < 0.3
        masked, kept = g.rng.choice(rows.size, 2, replace=False)
        rows.flat[masked], rows.flat[kept] = True, False
        mask = mask & ~rows[..., None]
        kwargs["masked_rows"] = "zeros"
    elif kind in ("additive", "additive_inf"):
        bias = g.bias((*lead, length, source), -np.inf if kind == "additive_inf" else
                      d(st.sampled_from([None, -(2.0**12)])))
    elif kind == "causal":
        kwargs["is_causal"] = True
    return Case((q, k, v, mask, bias), kwargs, QKV)


def _sdpa(menu: list[Entry]) -> Callable[[str], Any]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        return st.composite(lambda d: _sdpa_case(d, menu))()

    return inputs


def attention_flops(case: Case) -> int:
    """Two matmuls per head, Q K^T and A V: 2 N H L S (E + Ev) (forward only; the backward
    pass does about twice that again)."""
    q, k, v = case.args[:3]
    n, h, length, e = q.shape
    return 2 * n * h * length * k.shape[2] * (e + v.shape[-1])


def _bench_sdpa() -> dict[str, Callable[[], Case]]:
    """Sequence lengths 128, 1024 and 4096 with head dim 64 (no mask, default scale)."""
    shapes = {"small": (1, 4, 128, 64), "medium": (1, 4, 1024, 64), "large": (1, 2, 4096, 64)}

    def make(s: tuple[int, ...]) -> Case:
        return Case((B.normal(s), B.normal(s), B.normal(s), None, None), {}, QKV)

    return B.by_size(make, shapes)


# --- layers --------------------------------------------------------------------------------

# (N, L, F, D, Dv), scale: drawn (1, the notes' unscaled form, or a dyadic value) or None
# (1/sqrt(D)). Dv != D in the second entry (jax.nn.dot_product_attention cannot take it).
SELF_MENU = [((1, 2, 2, 2, 2), "drawn"), ((2, 5, 3, 2, 3), "drawn"), ((2, 16, 3, 4, 4), "none")]


def _self_attention(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        (n, length, f, dk, dv), scale_kind = d(st.sampled_from(SELF_MENU))
        g = Draw(d)
        x = g.uniform((n, length, f), 2.0)
        # The projections carry the temperature: scores of order temp^2 * 4 * D.
        w_q, w_k = g.uniform((dk, f), g.temp / 2), g.uniform((dk, f), g.temp / 2)
        w_v = g.uniform((dv, f))
        scale = d(st.one_of(st.just(1.0), SCALES)) if scale_kind == "drawn" else None
        return Case((x, w_q, w_k, w_v), {"scale": scale}, ("x", "w_q", "w_k", "w_v"))

    return draw()


# (N, L, S, Eq, Ek, A, Ev), and whether the attention variant gets a key mask.
ADDITIVE_MENU_LAYER = [((1, 2, 2, 2, 2, 2, 2), False), ((2, 3, 5, 4, 3, 4, 2), True),
                       ((2, 16, 16, 2, 3, 4, 2), True)]
ADDITIVE_NAMES = ("q", "k", "w_q", "w_k", "v_a")


def _additive(with_values: bool) -> Callable[[str], Any]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            (n, length, source, eq, ek, units, ev), masked = d(
                st.sampled_from(ADDITIVE_MENU_LAYER))
            g = Draw(d)
            q, k = g.uniform((n, length, eq), 2.0), g.uniform((n, source, ek), 2.0)
            # Projections of |x| up to ~4 temp: tanh saturates from temp = 1 on.
            w_q, w_k = g.uniform((units, eq), g.temp), g.uniform((units, ek), g.temp)
            v_a = g.uniform((units,), 2.0)
            if not with_values:
                return Case((q, k, w_q, w_k, v_a), {}, ADDITIVE_NAMES)
            value = g.uniform((n, source, ev), 2.0)
            mask = None
            if masked:
                mask = g.nonempty(g.rng.random((n, 1, source)) < 0.6)[:, 0]
            return Case((q, k, value, w_q, w_k, v_a, mask), {},
                        ("q", "k", "value", "w_q", "w_k", "v_a", "mask"))

        return draw()

    return inputs


# (N, L, S, H, d, Ek, Ev): Eq = Eo = H d (torch's embed_dim); Ek = Ev = H d is the packed
# in_proj_weight path of nn.MultiheadAttention, the others its separate projections.
# Each entry also says whether a mask is drawn and whether the weights are averaged.
MHA_MENU = [((1, 2, 3, 1, 2, 2, 3), False, False), ((2, 3, 4, 2, 2, 4, 4), True, True),
            ((2, 8, 8, 3, 2, 6, 5), True, False)]
MHA_NAMES = ("query", "key", "value", "w_q", "w_k", "w_v", "w_o", "b_q", "b_k", "b_v", "b_o",
             "mask")


def _multi_head(weights: bool) -> Callable[[str], Any]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            (n, length, source, heads, dh, ek, ev), masked, average = d(
                st.sampled_from(MHA_MENU))
            e = heads * dh
            g = Draw(d)
            ins = [g.uniform((n, length, e), 2.0), g.uniform((n, source, ek), 2.0),
                   g.uniform((n, source, ev), 2.0)]
            ws = [g.uniform((e, e), g.temp / 2), g.uniform((e, ek), g.temp / 2),
                  g.uniform((e, ev)), g.uniform((e, e))]
            bs = [g.uniform((e,), 0.5) for _ in range(4)]
            mask = None
            if masked:
                mask = g.nonempty(g.rng.random((n, length, source)) < 0.6)
            kwargs: dict[str, Any] = {"num_heads": heads}
            if weights:
                kwargs["average_weights"] = average
            return Case((*ins, *ws, *bs, mask), kwargs, MHA_NAMES)

        return draw()

    return inputs


def _truncated(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        (n, h, length, e), windows = d(st.sampled_from(TRUNCATED_MENU))
        g = Draw(d)
        q, k = g.qk((n, h, length, e)), g.qk((n, h, length, e))
        v = g.uniform((n, h, length, e), 2.0)
        left, right = d(st.sampled_from(windows))
        kwargs = {"left": left, "right": right, "scale": d(SCALES)}
        return Case((q, k, v), kwargs, ("q", "k", "v"))

    return draw()


def _positional(dtype: str) -> st.SearchStrategy[Case]:
    """Positions offset + 0..L-1 (a sequence, offset up to 48) or dyadic quarters in
    [0, 64) (exact in every dtype); (shape, d_model, layout) from a menu."""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape, d_model, layout = d(st.sampled_from(POSITIONAL_MENU))
        rng = np.random.default_rng(d(st.integers(0, 2**32 - 1)))
        if d(st.booleans()):
            p = d(st.integers(0, 48)) + np.broadcast_to(np.arange(shape[-1]), shape)
            p = p.astype(np.float64)
        else:
            p = rng.integers(0, 256, shape) / 4.0
        kwargs = {"d_model": d_model, "layout": layout,
                  "max_wavelength": d(st.sampled_from([10000.0, 1000.0, 256.0]))}
        return Case((p,), kwargs, ("positions",))

    return draw()


HALF = ("float16", "bfloat16")
QKV_GRAD = (0, 1, 2)
# Every array but b_k: d/db_k is identically 0 (a key bias adds q . b_k to every score of a
# row, which the softmax ignores), and kernels return its rounding noise, which no error
# bound can judge against an exact 0. b_k still enters the values checked.
MHA_GRAD = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10)

register(
    OpSpec("attn.self_attention", A.self_attention, _self_attention, grad_wrt=(0, 1, 2, 3),
           textbook=TB.self_attention),
    OpSpec("attn.scaled_dot_product", A.scaled_dot_product, _sdpa(SDPA_MENU),
           grad_wrt=QKV_GRAD, textbook=TB.sdpa(QKV_GRAD), bench=_bench_sdpa(),
           flops=attention_flops),
    OpSpec("attn.scaled_dot_product/additive_mask", A.scaled_dot_product,
           _sdpa(ADDITIVE_MENU), grad_wrt=(0, 1, 2, 4),
           textbook=TB.sdpa((0, 1, 2, 4))),
    OpSpec("attn.scaled_dot_product/additive_mask_inf", A.scaled_dot_product,
           _sdpa(ADDITIVE_INF_MENU), grad_wrt=QKV_GRAD,
           textbook=TB.sdpa(QKV_GRAD),
           notes="-inf entries are not differentiated (the bias is held fixed)"),
    OpSpec("attn.scaled_dot_product/causal", A.scaled_dot_product,
           _sdpa(CAUSAL_MENU), grad_wrt=QKV_GRAD, textbook=TB.sdpa(QKV_GRAD)),
    OpSpec("attn.scaled_dot_product/fully_masked_rows", A.scaled_dot_product,
           _sdpa(FULLY_MASKED_MENU), grad_wrt=QKV_GRAD,
           textbook=TB.sdpa(QKV_GRAD), notes="canonical convention masked_rows='zeros'"),
    *(OpSpec(f"attn.scaled_dot_product/{kernel}", A.scaled_dot_product,
             _sdpa(KERNEL_MENU), dtypes=dtypes, grad_wrt=QKV_GRAD,
             textbook=TB.sdpa(QKV_GRAD), notes=note)
      for kernel, dtypes, note in (
          ("flash", FLOAT_DTYPES, "a fused kernel: FlashAttention-style backward"),
          ("efficient", FLOAT_DTYPES, "a fused kernel: memory-efficient attention"),
          ("cudnn", HALF, "cuDNN fused attention takes half types only"))),
    OpSpec("attn.additive_score", A.additive_score, _additive(False), grad_wrt=(0, 1, 2, 3, 4),
           textbook=TB.additive_score),
    OpSpec("attn.additive_score/attention", A.additive_attention, _additive(True),
           grad_wrt=(0, 1, 2, 3, 4, 5), textbook=TB.additive_attention,
           notes="softmax of the additive scores over the (unmasked) keys, applied to values"),
    OpSpec("attn.multi_head", A.multi_head, _multi_head(True), grad_wrt=MHA_GRAD,
           textbook=TB.multi_head(MHA_GRAD, weights=True),
           notes="output and per-head (or head-averaged) attention weights"),
    OpSpec("attn.multi_head/no_weights", A.multi_head_output, _multi_head(False),
           grad_wrt=MHA_GRAD, textbook=TB.multi_head(MHA_GRAD, weights=False),
           notes="output only: the fused-kernel path of torch and Keras"),
    OpSpec("attn.positional_encoding", A.positional_encoding, _positional, grad_wrt=(0,)),
    OpSpec("attn.truncated", A.truncated, _truncated, grad_wrt=QKV_GRAD,
           textbook=TB.truncated),
    OpSpec("attn.truncated/flex", A.truncated, _truncated, grad_wrt=QKV_GRAD,
           textbook=TB.truncated, notes="torch flex_attention with a window mask_mod"),
)
