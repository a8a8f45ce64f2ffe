"""What the accuracy harness evaluates for each op of the act, loss, nn, norm, pool, reg,
conv, block, arch and ad families: the callable measured (the catalog function, or for ``ad``
and ``arch`` the composite form the conformance specs check), its mpmath transcription, a
builder of inputs for each hard class, the classes in the op's domain, and where a bound is
conditioned, the per-element condition scale.

A builder takes a ``Draw`` (a NumPy generator seeded by hypothesis and the class name) and
returns (args, kwargs). Shapes are small: mpmath evaluates every element exactly, and the
stated bounds assume the sizes drawn here (e.g. at most 8 terms per sum).
"""

from __future__ import annotations

from collections.abc import Callable

from oracle import conv as cv
from oracle.accuracy import inputs_ad as ad_in
from oracle.accuracy import inputs_nn as nn_in
from oracle.accuracy import inputs_stats as stats_in
from oracle.accuracy.draw import Args, Draw, Form, Terms
from oracle.architectures import shapes_and_params
from oracle.autodiff import composite
from oracle.blocks import flatten_fc, inception_block, residual_block
from oracle.precise import PRECISE
from oracle.precise import architectures as p_arch
from oracle.precise import autodiff as p_ad
from oracle.registry import OPS

__all__ = ["FORMS", "Args", "Draw", "Form", "Terms"]

SMOOTH = ("ordinary", "large", "tiny", "subnormal", "saturation", "near_ties")
LOGITS = ("ordinary", "saturation", "large", "tiny", "offset", "near_ties", "cancellation")
STATS = ("ordinary", "offset", "large", "tiny", "cancellation", "near_ties")
LINEAR = ("ordinary", "offset", "cancellation", "large", "tiny")
SELECT = ("ordinary", "near_ties", "large", "tiny", "subnormal", "saturation")
# Two layers deep: products of four drawn values, so no "large" (1e150^4 overflows).
BLOCK = ("ordinary", "offset", "cancellation", "tiny")
# Not cancellation/large/offset: saturated units (|z| >> 1) have tanh'(z) = sech^2(z) with
# relative condition 2|z| in z, so the pre-activation's own rounding u|z| becomes 2 z^2 u
# there (see the bound's reason).
MLP = ("ordinary", "tiny", "near_ties")
NORMS = ("ordinary", "huge", "minute", "subnormal", "tiny", "large", "offset")


WEIGHTS = ("ordinary", "offset", "large", "tiny")
POSITIVE = ("ordinary", "offset", "large", "tiny", "near_ties")

# op: (input builder, classes in its domain, condition scale or None); the callable
# measured is the catalog function (oracle.registry.OPS) and its transcription PRECISE[op].
TABLE: dict[str, tuple[Callable[[Draw], Args], tuple[str, ...], Terms | None]] = {
    "act.sigmoid": (nn_in.elementwise, SMOOTH, None),
    "act.tanh": (nn_in.elementwise, SMOOTH, None),
    "act.relu": (nn_in.elementwise, SMOOTH, None),
    "act.leaky_relu": (nn_in.leaky, SMOOTH, None),
    "act.softmax": (nn_in.softmax, LOGITS + ("subnormal",), None),
    "act.log_softmax": (nn_in.softmax, LOGITS + ("subnormal",), None),
    "loss.mse": (nn_in.mse, LINEAR, None),
    "loss.binary_cross_entropy": (nn_in.bce, ("ordinary", "saturation", "tiny", "large"), None),
    "loss.cross_entropy": (nn_in.cross_entropy, LOGITS, None),
    "loss.sequence_cross_entropy": (nn_in.sequence_ce, LOGITS, None),
    "nn.dense": (nn_in.dense, LINEAR, nn_in.dense_terms),
    "norm.batch_norm_train": (stats_in.bn_train, STATS, stats_in.bn_train_terms),
    "norm.batch_norm_eval": (stats_in.bn_eval, STATS, stats_in.bn_eval_terms),
    "norm.layer_norm": (stats_in.layer_norm, STATS, stats_in.layer_norm_terms),
    "norm.standardize": (stats_in.standardize, STATS, stats_in.standardize_terms),
    "norm.weight_norm": (stats_in.weight_norm, POSITIVE, None),
    "norm.cosine_norm": (stats_in.cosine, LINEAR, stats_in.cosine_terms),
    "norm.lrn": (stats_in.lrn, POSITIVE, None),
    "pool.max": (stats_in.pool2d, SELECT, None),
    "pool.min": (stats_in.pool2d, SELECT, None),
    "pool.global_max": (stats_in.global_pool, SELECT, None),
    "pool.avg": (stats_in.avg, LINEAR, stats_in.avg_terms),
    "pool.global_avg": (stats_in.global_pool, LINEAR, stats_in.global_avg_terms),
    "pool.l2": (stats_in.l2, NORMS, None),
    "pool.stochastic": (stats_in.stochastic, POSITIVE, None),
    "pool.max_unpool": (stats_in.unpool, SELECT, None),
    "pool.kmax": (stats_in.kmax, SELECT, None),
    "reg.l1": (stats_in.weights, WEIGHTS + ("subnormal", "huge", "minute"), None),
    "reg.l2": (stats_in.weights, NORMS, None),
    "reg.l2_squared": (stats_in.weights, WEIGHTS, None),
    "reg.group": (stats_in.group, WEIGHTS, None),
    "reg.total_loss": (stats_in.total, ("ordinary", "offset", "tiny"), stats_in.total_terms),
    "reg.dropout": (stats_in.dropout, SELECT, None),
    "reg.prox_l1": (stats_in.prox, WEIGHTS, None),
    "reg.early_stopping": (stats_in.early, ("ordinary", "near_ties"), None),
    "conv.conv1d": (lambda d: nn_in.conv_case(d, 1), LINEAR, nn_in.conv_terms(cv.conv1d)),
    "conv.conv2d": (lambda d: nn_in.conv_case(d, 2), LINEAR, nn_in.conv_terms(cv.conv2d)),
    "conv.conv3d": (lambda d: nn_in.conv_case(d, 3), LINEAR, nn_in.conv_terms(cv.conv3d)),
    "conv.conv_transpose2d": (nn_in.conv_t, LINEAR, nn_in.conv_terms(cv.conv_transpose2d)),
    "conv.depthwise2d": (nn_in.depthwise, LINEAR, nn_in.conv_terms(cv.depthwise_conv2d)),
    "conv.edge_detect": (nn_in.edge, LINEAR, nn_in.edge_terms),
    "block.residual": (nn_in.residual, BLOCK, nn_in.relu_chain_terms(residual_block)),
    "block.inception": (nn_in.inception, BLOCK, nn_in.relu_chain_terms(inception_block)),
    "block.flatten_fc": (nn_in.flatten_fc, LINEAR, nn_in.conv_terms(flatten_fc)),
    "ad.dual_arith": (ad_in.dual_arith, ("ordinary", "large", "tiny", "near_ties"),
                      ad_in.dual_terms),
    "ad.dual_functions": (ad_in.dual_functions, SMOOTH, ad_in.dual_terms),
}


def _forms() -> dict[str, list[Form]]:
    forms = {op: [Form(op, OPS[op], PRECISE[op], build, classes, terms)]
             for op, (build, classes, terms) in TABLE.items()}
    # arch and ad: the composite forms the conformance specs check (the catalog entries
    # are the generic summary / jvp / vjp / hessian / difference-quotient functions).
    forms["arch.shapes_and_params"] = [Form("arch.shapes_and_params", shapes_and_params,
                                            p_arch.shapes_and_params, ad_in.arch, ("ordinary",))]
    forms["ad.jvp"] = [Form("ad.jvp", composite.mlp_jvp, p_ad.mlp_jvp, ad_in.mlp_jvp, MLP,
                            ad_in.mlp_jvp_terms)]
    forms["ad.vjp"] = [Form("ad.vjp", composite.mlp_vjp, p_ad.mlp_vjp, ad_in.mlp_vjp, MLP,
                            ad_in.mlp_vjp_terms)]
    forms["ad.hessian"] = [
        Form("ad.hessian/logsumexp", composite.hessian_logsumexp, p_ad.hessian_logsumexp,
             ad_in.hess_lse, ("ordinary", "near_ties", "offset"), ad_in.hess_terms),
        Form("ad.hessian/rosenbrock", composite.hessian_rosenbrock, p_ad.hessian_rosenbrock,
             ad_in.hess_rosen, ("ordinary", "near_ties"), ad_in.hess_terms)]
    forms["ad.numeric_diff"] = [Form("ad.numeric_diff", composite.numeric_diff,
                                     p_ad.numeric_diff, ad_in.numeric,
                                     ("ordinary", "near_ties", "offset"), ad_in.numeric_terms)]
    return forms


FORMS: dict[str, list[Form]] = _forms()
