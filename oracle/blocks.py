"""CNN building blocks of notes 004 (catalog family ``block``): the residual block, the
Inception block and the flatten + fully connected head.

Layouts as ``oracle.conv``: NCHW activations, OIHW weights, biases (C_out,) or None.
'Same' convolutions use symmetric padding k // 2 (odd kernels), ReLU is the oracle's
(ReLU'(0) = 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from oracle import _canon
from oracle.activations import relu
from oracle.conv import conv2d
from oracle.dense import dense
from oracle.pooling import max_pool

_SHORTCUTS = ("identity", "projection", "zero_pad")


def _same_conv(x: Any, w: Any, b: Any, stride: int = 1) -> Any:
    k = np.shape(_canon.primal(w))[2:]
    if any(ki % 2 == 0 for ki in k):
        raise ValueError(f"'same' block convolutions need odd kernels, got {k}")
    return conv2d(x, w, b, stride=stride, padding=tuple(ki // 2 for ki in k))


def _shortcut(x: Any, c_out: int, kind: str, ws: Any, stride: int) -> Any:
    if kind == "projection":
        if ws is None:
            raise ValueError("the projection shortcut needs ws (C_out, C_in, 1, 1)")
        return conv2d(x, ws, stride=stride)
    if ws is not None:
        raise ValueError(f"ws is only used by the projection shortcut, not {kind!r}")
    if kind == "identity":
        if stride != 1 or x.shape[1] != c_out:
            raise ValueError("the identity shortcut needs stride 1 and C_in == C_out")
        return x
    sub = x[:, :, ::stride, ::stride]
    extra = c_out - x.shape[1]
    if extra < 0:
        raise ValueError("the zero-padding shortcut needs C_out >= C_in")
    if extra == 0:
        return sub
    return np.concatenate([sub, _canon.zeros((sub.shape[0], extra) + sub.shape[2:], like=sub)],
                          axis=1)


def residual_block(
    x: Any,
    w1: Any,
    b1: Any,
    w2: Any,
    b2: Any,
    *,
    shortcut: str = "identity",
    ws: Any = None,
    stride: int = 1,
) -> Any:
    """Residual block (ResNet, notes 004), layer order conv-relu-conv-add-relu:

        a1 = relu(conv(x, w1, b1, stride));  z2 = conv(a1, w2, b2)
        a_{l+2} = relu(z2 + shortcut(x))

    x (N, C_in, H, W); w1 (C_out, C_in, k, k), w2 (C_out, C_out, k, k), odd k (3 in the
    notes), symmetric padding k // 2 (so stride 1 keeps H, W; ``stride`` applies to the first
    conv only, torch's ResNet convention). No batch norm (the notes' block has none).
    Shortcuts for a_l and a_{l+2} of different shapes (the notes' two options):
    'identity': x itself (stride 1, C_in == C_out); 'projection': W_s a_l as a 1x1 conv with
    ws (C_out, C_in, 1, 1), no bias, with the block's stride; 'zero_pad': x subsampled by the
    stride (x[:, :, ::s, ::s]) with zero channels appended up to C_out (ResNet option A).
    """
    if shortcut not in _SHORTCUTS:
        raise ValueError(f"shortcut must be one of {_SHORTCUTS}, got {shortcut!r}")
    x = _canon.asarray(x)
    a1 = relu(_same_conv(x, w1, b1, stride))
    z2 = _same_conv(a1, w2, b2)
    return relu(z2 + _shortcut(x, z2.shape[1], shortcut, ws, stride))


def residual_projection(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, ws: Any, *,
                        shortcut: str = "projection", stride: int = 1) -> Any:
    """``residual_block`` with the projection weights ws positional, so that they can be
    differentiated like every other weight (``residual_block`` takes ws by keyword)."""
    return residual_block(x, w1, b1, w2, b2, shortcut=shortcut, ws=ws, stride=stride)


def inception_block(
    x: Any,
    w1: Any, b1: Any,
    w3r: Any, b3r: Any, w3: Any, b3: Any,
    w5r: Any, b5r: Any, w5: Any, b5: Any,
    wp: Any, bp: Any,
) -> Any:
    """Inception (GoogLeNet) block of notes 004: four branches on x (N, C, H, W), each
    keeping H x W, concatenated along channels in this order:

        1. relu(conv1x1(x; w1, b1))
        2. relu(conv3x3(relu(conv1x1(x; w3r, b3r)); w3, b3))      (1x1 reduce, then 3x3)
        3. relu(conv5x5(relu(conv1x1(x; w5r, b5r)); w5, b5))      (1x1 reduce, then 5x5)
        4. relu(conv1x1(maxpool3x3(x); wp, bp))                   (pool projection)

    Weights OIHW: w1 (c1, C, 1, 1); w3r (r3, C, 1, 1), w3 (c3, r3, 3, 3); w5r (r5, C, 1, 1),
    w5 (c5, r5, 5, 5); wp (cp, C, 1, 1). Biases (C_out,) or None. Convs are 'same'
    (padding k // 2), ReLU after every conv (GoogLeNet). The max pool is 3x3, stride 1,
    padding 1 with the padding never chosen (torch MaxPool2d(3, 1, 1), TF 'SAME'); the notes'
    "0-padding" gives the same result for x >= 0 (post-ReLU inputs). Output channels
    c1 + c3 + c5 + cp (the notes' example: 64 + 128 + 32 + 32 = 256 on 28x28x192).
    """
    x = _canon.asarray(x)
    branch1 = relu(_same_conv(x, w1, b1))
    branch3 = relu(_same_conv(relu(_same_conv(x, w3r, b3r)), w3, b3))
    branch5 = relu(_same_conv(relu(_same_conv(x, w5r, b5r)), w5, b5))
    pooled = max_pool(x, kernel=3, stride=1, padding=1)
    branchp = relu(_same_conv(pooled, wp, bp))
    return np.concatenate([branch1, branch3, branch5, branchp], axis=1)


def flatten_fc(x: Any, w: Any, b: Any = None) -> Any:
    """Flatten a feature map and apply a dense layer (the FC head; no activation):

        y = flatten(x) @ w.T + b,  flatten(x)[n] = x[n].reshape(-1) in C order over (C, H, W)

    x (N, C, *spatial), w (out, C*H*W) as torch's Linear, b (out,) or None. Flattening is
    channel-major (c, h, w), as torch.flatten on NCHW. NHWC frameworks (Keras Flatten, Flax)
    flatten (h, w, c): their dense kernel rows are a permutation of these columns, which the
    adapter must apply: w_nhwc[:, (h*W + w')*C + c] = w[:, (c*H + h)*W + w'].
    """
    x = _canon.asarray(x)
    return dense(x.reshape(x.shape[0], -1), w, b)


ORACLE: dict[str, Callable[..., Any]] = {
    "block.residual": residual_block,
    "block.inception": inception_block,
    "block.flatten_fc": flatten_fc,
}
