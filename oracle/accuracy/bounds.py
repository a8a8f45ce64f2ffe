"""The oracle's stated float64 error, per op: one readable table, each bound with its reason.

A bound is a number in the units of its kind (oracle/accuracy/measure.py): ``ulp`` (units
in the last place of each exact element), ``rel`` (relative error in eps = 2^-52), ``norm``
(eps times max(|exact_i|, rms(exact))) or ``terms`` (eps times a per-element condition scale,
e.g. sum |x_j w_j| for a dot product). u = eps / 2 is the unit roundoff; a relative error r u
is at most r ulp. "Sums of n terms" rounds n - 1 times (NumPy's pairwise summation is a plain
loop below 8 terms). The sizes the harness draws are in oracle/accuracy/cases.py; the bounds
hold for those sizes (mpmath is the limit: a larger case of the same op scales the
summation terms with n).

The agreement rule (conformance/agreement.py) adds this error to its float64 bound, so no
float64 kernel is blamed for the reference's own rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Bound:
    value: float
    kind: str
    reason: str

    def describe(self) -> str:
        unit = {"ulp": "ulp", "rel": "eps rel", "norm": "eps norm",
                "terms": "eps*terms"}[self.kind]
        return f"{self.value:g} {unit}"


def _b(value: float, kind: str, reason: str) -> Bound:
    return Bound(value, kind, reason)


EXACT = "a selection, copy or integer count: no arithmetic, exact"
DOT = ("a sum of n products (+ bias) rounds each term and each partial sum: "
       "|err| <= (n + 1) u sum|terms| (n <= {n} here)")

BOUNDS: dict[str, Bound] = {
    # --- act
    "act.sigmoid": _b(3, "ulp", "exp (libm, ~1 ulp), one add and one divide: a relative "
                      "error up to ~(1 + 1/2 + 1/2) u, i.e. up to ~2 ulp plus exp's excess "
                      "over 1/2 ulp (2.01 measured); the branch on the sign keeps "
                      "e = exp(-|x|) <= 1, so nothing is amplified"),
    "act.tanh": _b(2, "ulp", "libm tanh (< 1 ulp)"),
    "act.relu": _b(0, "ulp", "a selection: exact"),
    "act.leaky_relu": _b(1, "ulp", "one product (0.5 ulp)"),
    "act.softmax": _b(4, "ulp", "the shift x - max is exact (TwoSum, its rounding carried as "
                      "exp(hi)(1 + lo)); exp, the product, the row sum 1 + s of positive "
                      "terms (<= 6 per row) and the divide"),
    "act.log_softmax": _b(4, "ulp", "(hi + lo) - log1p(s) with the exact TwoSum shift: a "
                          "difference of a nonpositive and a nonnegative term (no "
                          "cancellation), log1p and the positive row sum"),
    # --- loss
    "loss.mse": _b(4, "rel", "a sum of <= 8 squares (nonnegative: relative error <= 7 u + the "
                   "square and the difference), then the mean's divide; + lambda sum w^2"),
    "loss.binary_cross_entropy": _b(4, "rel", "two nonnegative terms per element (logits: "
                                    "z (1 - t) + log1p(e^-z) for z >= 0, -z t + log1p(e^z) "
                                    "otherwise; no cancellation) and a sum of <= 8 of them"),
    "loss.cross_entropy": _b(4, "rel", "-log_softmax (4 ulp, nonnegative) weighted by "
                             "nonnegative targets, summed over <= 5 classes and <= 3 samples"),
    "loss.sequence_cross_entropy": _b(6, "rel", "cross_entropy per step (4), then a mean "
                                      "over 2 samples and a sum over 2 steps of "
                                      "nonnegative terms (2 more roundings)"),
    # --- nn
    "nn.dense": _b(5, "terms", DOT.format(n=4) + "; the activation (|g'| <= 1) adds 2 eps |y|"),
    # --- norm
    "norm.batch_norm_train": _b(4, "terms", "two centring passes make x - mean exact to "
                                "u |x - mean| + u mean|x - mean|; var, sqrt and divide add a "
                                "few u of |xhat| + 1; the affine map and the momentum updates "
                                "are sums of two terms, judged by their magnitudes"),
    "norm.batch_norm_eval": _b(4, "terms", "x - mean (one rounding of the difference), sqrt, "
                               "divide, then gamma xhat + beta judged by |gamma|(|xhat| + 1) + "
                               "|beta|"),
    "norm.layer_norm": _b(4, "terms", "as batch_norm_train's y: two centring passes, "
                          "two-pass variance over <= 9 values, sqrt, divide, affine"),
    "norm.standardize": _b(4, "terms", "as layer_norm without the affine map"),
    "norm.weight_norm": _b(4, "ulp", "g v / sqrt(sum v^2): a sum of <= 12 squares "
                           "(nonnegative), sqrt halves its relative error, one product and "
                           "one divide"),
    "norm.cosine_norm": _b(6, "terms", DOT.format(n=4) + " for the dot product, divided by two "
                           "norms (sums of squares, ~3 u each)"),
    "norm.lrn": _b(4, "ulp", "x / (k + alpha / n sum x^2)^beta: a nonnegative sum of <= 5 "
                   "squares, one product, one add to k > 0, pow (~1 ulp) and a divide"),
    # --- pool
    "pool.max": _b(0, "ulp", EXACT),
    "pool.min": _b(0, "ulp", EXACT),
    "pool.global_max": _b(0, "ulp", EXACT),
    "pool.avg": _b(6, "terms", "a sum of <= 9 window values (8 roundings of partial sums, "
                   "judged by sum |x|) and one divide"),
    "pool.global_avg": _b(4, "terms", "a sum of 6 values judged by sum |x|, one divide"),
    "pool.l2": _b(4, "ulp", "scaled by a power of two (exact) before squaring: a nonnegative "
                  "sum of <= 9 squares, a divide, sqrt (halves the sum's relative error), "
                  "and the exact unscaling"),
    "pool.stochastic": _b(4, "ulp", "sum a^2 / sum a of <= 4 nonnegative values: two "
                          "nonnegative sums and one divide"),
    "pool.max_unpool": _b(0, "ulp", EXACT),
    "pool.kmax": _b(0, "ulp", EXACT + " (ranked on the values themselves, any real dtype)"),
    # --- reg
    "reg.l1": _b(4, "rel", "a sum of <= 8 absolute values (nonnegative)"),
    "reg.l2": _b(4, "rel", "scaled by a power of two before squaring (no overflow or "
                 "underflow), a nonnegative sum of <= 8 squares, sqrt, exact unscaling"),
    "reg.l2_squared": _b(4, "rel", "a nonnegative sum of <= 8 squares"),
    "reg.group": _b(4, "rel", "nonnegative sums of squares per group (sqrt for lasso) and "
                    "their nonnegative sum"),
    "reg.total_loss": _b(4, "terms", "data loss + lambda R + lambda_g R_g: nonnegative terms, "
                         "each a few u"),
    "reg.dropout": _b(1, "ulp", "one divide by 1 - p (1 - p exact for the p drawn: p >= 0.1 "
                      "or a dyadic)"),
    "reg.prox_l1": _b(1, "ulp", "one add of +-lam: the difference |w| - lam is exact when "
                      "close (Sterbenz), 0.5 ulp otherwise"),
    "reg.early_stopping": _b(0, "ulp", "integer epochs from comparisons (the comparisons of "
                             "s + delta with the best are Keras' float64 arithmetic, "
                             "transcribed as such)"),
    # --- conv, block
    "conv.conv1d": _b(4, "terms", DOT.format(n=6)),
    "conv.conv2d": _b(5, "terms", DOT.format(n=8)),
    "conv.conv3d": _b(9, "terms", DOT.format(n=16)),
    "conv.conv_transpose2d": _b(5, "terms", DOT.format(n=8) + " (scattered partial sums)"),
    "conv.depthwise2d": _b(3, "terms", DOT.format(n=4)),
    "conv.edge_detect": _b(5, "terms", DOT.format(n=9)),
    "block.residual": _b(24, "terms", "two 3x3 convolutions of <= 27 products (each (n + 1) u) "
                         "through ReLU (1-Lipschitz), + the shortcut's add (+ 9 u for the "
                         "projection); the first conv's error passes through the second "
                         "scaled by |w2|, which the |inputs| run includes"),
    "block.inception": _b(20, "terms", "<= two convolutions per branch (<= 25 products per "
                          "5x5 output), ReLU and max pooling (1-Lipschitz) between"),
    "block.flatten_fc": _b(5, "terms", DOT.format(n=8)),
    # --- arch, ad
    "arch.shapes_and_params": _b(0, "ulp", EXACT),
    # --- graph (its transcription is the graph family's; measured on its spec's inputs)
    "graph.dirichlet_energy": _b(16, "terms", "form='quadratic' is x^T (D - A) x, which "
                                 "cancels for smooth x: a sum over <= 24 edges of w (x_s^2 - "
                                 "x_s x_t), judged by the terms' magnitudes; 'pairwise' is a "
                                 "sum of squares"),
    "ad.dual_arith": _b(4, "terms", "one operation and its dual rule (<= 3 roundings: "
                        "x' y + x y', log(x) x^y y'), judged by each output's magnitude; "
                        "a tangent sum may cancel"),
    "ad.dual_functions": _b(4, "terms", "the libm function (< 1 ulp) and its derivative "
                            "times x' (<= 3 roundings)"),
    "ad.jvp": _b(16, "terms", "a 2-layer tanh MLP and its forward-mode derivative: two "
                 "products of <= 3 terms per layer, tanh, log-softmax; judged by the chain "
                 "rule run on magnitudes, first order in every rounding (a cancelling "
                 "pre-activation, softmax's sensitivity to the logits, the shift by the top "
                 "logit: oracle/accuracy/inputs_ad.py). Saturated units (|z| >> 1) are "
                 "outside it: sech^2(z) has relative condition 2|z|, so the pre-activation's "
                 "rounding u|z| costs 2 z^2 u there"),
    "ad.vjp": _b(16, "terms", "the same MLP's reverse-mode derivative (by duals, one pass "
                 "per parameter), judged by backpropagation run on magnitudes in the same "
                 "way; saturated units outside it, as for ad.jvp"),
    "ad.hessian": _b(8, "terms", "nested duals through logsumexp(Ax) + |x|^2 / 2 or "
                     "Rosenbrock: each Hessian entry a sum of a few products, judged by "
                     "the sum of their magnitudes"),
    "ad.numeric_diff": _b(4, "terms", "(f(x + h u) - f(x)) / h: the rounding of x + h u and "
                          "of f (a few eps |f|) divided by h: the bound is the difference "
                          "quotient's own conditioning"),
}


# The families whose transcriptions their own helpers wrote, measured on their specs' inputs
# (oracle/accuracy/others.py): one bound per family, from its structure; normwise, since
# their outputs are products of several layers or steps whose elements may cancel. Their
# owners may state tighter per-op bounds in BOUNDS.
FAMILY_BOUNDS: dict[str, Bound] = {
    "attn": Bound(16, "norm", "projections (sums of <= 8 products), softmax (4 ulp), a "
                  "weighted sum of values and the output projection: ~4 layers of "
                  "(n + 1) u, judged normwise"),
    "aug": Bound(8, "norm", "a few products and sums per pixel (interpolation weights, "
                 "colour transforms of 3 channels, blur taps), judged normwise"),
    "graph": Bound(64, "norm", "aggregations over neighbours and eigen-based filters "
                   "(LAPACK eigh: backward stable, error ~ n eps ||L|| / gap): judged "
                   "normwise"),
    "optim": Bound(64, "norm", "trajectories of K <= 8 steps, each a few roundings per "
                   "state element (sqrt and divides for the adaptive ones); error may grow "
                   "with the step count: judged normwise"),
    "sched": Bound(8, "norm", "a power or product per step (exp/pow < 1 ulp)"),
    "rnn": Bound(64, "norm", "T <= 4 steps of gate products (sums of <= 8 products, "
                 "sigmoid/tanh) feeding back into the state: judged normwise"),
}


def bound_for(op: str) -> Bound | None:
    """The stated bound of a catalog id or spec id ("fam.op/variant"), or None."""
    catalog_id = op.split("/")[0]
    return BOUNDS.get(catalog_id) or FAMILY_BOUNDS.get(catalog_id.split(".")[0])


EPS64 = 2.0**-52


def stated_error(op: str, exact: np.ndarray, scale: Any) -> np.ndarray | float:
    """The oracle's stated float64 error for ``op`` at each element of ``exact``, as an
    absolute error: value * ulp(exact) ("ulp"), value * eps * |exact| ("rel"),
    value * eps * max(|exact|, scale) ("norm", "terms": the agreement rule's scale, rms(exact)
    or the sum of the terms' magnitudes where the caller knows it). 0 for an op without a
    stated bound. Used by conformance/agreement.py for float64 checks."""
    bound = bound_for(op)
    if bound is None or bound.value == 0:
        return 0.0
    mag = np.abs(np.nan_to_num(np.asarray(exact, np.float64), posinf=0.0, neginf=0.0))
    if bound.kind == "ulp":
        with np.errstate(divide="ignore"):
            binade = np.exp2(np.floor(np.log2(np.where(mag > 0, mag, 2.0**-1074))))
        return bound.value * np.maximum(binade * EPS64, 2.0**-1074)
    if bound.kind == "rel":
        return bound.value * EPS64 * mag
    return bound.value * EPS64 * np.maximum(mag, np.asarray(scale, np.float64))
