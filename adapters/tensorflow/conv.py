"""TensorFlow mappings of the ``conv`` family: tf.nn.conv1d/conv2d/conv3d, conv2d_transpose,
depthwise_conv2d and bias_add, channels-last inside.

Layouts: activations NC* -> N*C; weights (O, I/groups, *k) -> (*k, I/groups, O) (TF infers
the groups from I_in / I_kernel); transposed weights (I, O/groups, kH, kW) -> (kH, kW,
O/groups, I); depthwise (C*mult, 1, kH, kW) -> (kH, kW, C, mult), the same channel order.
Padding: 'valid'/'same' -> 'VALID'/'SAME' (TF's split is the oracle's); ints -> conv2d's
explicit [[0, 0], [p, p], [p, p], [0, 0]] list; conv1d/conv3d take no explicit list, so
there tf.pad, then 'VALID'. A dilated conv2d with an explicit list has no gradient kernel on
the CPU in any dtype (Conv2DBackpropInput: "Current CPU implementations do not yet support
dilation rates larger than 1"; the oneDNN kernels that have dilation take no explicit
padding), so dilated conv2d pads with tf.pad too: the same windows.

Transposed convolution (docs/conventions/conv.md §7.1): tf.nn.conv2d_transpose with
'VALID' gives the full adjoint of size (n-1)s + d(k-1) + 1 (+ output_padding when it is
below the stride: TF then still maps that size back to n); torch's ``padding`` is then a
crop of p on both sides. An output_padding at or above the stride (allowed with dilation)
only adds rows that no input reaches: zeros, padded explicitly.

tf.nn.conv3d has no grouped kernel on the CPU ("input and filter must have the same depth"),
so ``conv.conv3d/extended`` is composed: one conv3d per channel group, concatenated.
"""

from __future__ import annotations

from typing import Any

from adapters._shared import EDGE_KERNEL, as_tuple, as_tuples, conv_pads, pad_source_index
from adapters.base import implements
from adapters.tensorflow._lazy import tf


def channels_last(x: Any) -> Any:
    return tf.transpose(x, [0, *range(2, len(x.shape)), 1])


def channels_first(y: Any) -> Any:
    r = len(y.shape) - 2
    return tf.transpose(y, [0, r + 1, *range(1, r + 1)])


def conv_kernel(w: Any) -> Any:
    """(O, I/groups, *k) -> (*k, I/groups, O)."""
    r = len(w.shape) - 2
    return tf.transpose(w, [*range(2, r + 2), 1, 0])


def _padded(x: Any, padding: Any, r: int) -> tuple[Any, Any]:
    """(input, TF padding) for conv1d/conv3d: strings pass, ints become a tf.pad."""
    if isinstance(padding, str):
        return x, padding.upper()
    pads = [[0, 0], *([p, p] for p in as_tuple(padding, r)), [0, 0]]
    return tf.pad(x, pads), "VALID"


def _conv_nlc(x: Any, k: Any, stride: Any, padding: Any, dilation: Any) -> Any:
    """One native convolution of channels-last x with a TF kernel."""
    r = len(x.shape) - 2
    s, d = as_tuple(stride, r), as_tuple(dilation, r)
    if r == 2 and (isinstance(padding, str) or max(d) == 1):
        pad = (padding.upper() if isinstance(padding, str)
               else [[0, 0], *([p, p] for p in as_tuple(padding, 2)), [0, 0]])
        return tf.nn.conv2d(x, k, strides=[1, *s, 1], padding=pad, dilations=[1, *d, 1])
    x, pad = _padded(x, padding, r)
    if r == 2:
        return tf.nn.conv2d(x, k, strides=[1, *s, 1], padding=pad, dilations=[1, *d, 1])
    if r == 1:
        return tf.nn.conv1d(x, k, stride=s[0], padding=pad, dilations=d[0])
    return tf.nn.conv3d(x, k, strides=[1, *s, 1], padding=pad, dilations=[1, *d, 1])


def conv(x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any) -> Any:
    y = _conv_nlc(channels_last(x), conv_kernel(w), stride, padding, dilation)
    return channels_first(y if b is None else tf.nn.bias_add(y, b))


def pad_mode(x: Any, pads: list[tuple[int, int]], mode: str) -> Any:
    """x (NC*) padded in torch's padding_mode: tf.pad's REFLECT is torch's reflect (its
    SYMMETRIC repeats the edge element: another mode); replicate and circular have no tf.pad
    mode and gather the source index of every padded position."""
    if mode == "reflect":
        return tf.pad(x, [[0, 0], [0, 0], *([lo, hi] for lo, hi in pads)], mode="REFLECT")
    for a, (lo, hi) in enumerate(pads):
        idx = pad_source_index(x.shape[2 + a], lo, hi, mode)
        x = tf.gather(x, idx, axis=2 + a)
    return x



# The keywords of the tf.nn convolutions, tf.pad and bias_add, as the mappings pass them.
CONV_PARAMS = {
    "data_format": "fixed: channels-last (the CPU kernel layout)",
    "dilations": "drawn: from dilation",
    "name": "fixed: None",
    "mode": "fixed: CONSTANT (zeros)",
    "constant_values": "fixed: 0",
}
PAD_PARAMS = {"mode": "drawn: from padding_mode",
              "constant_values": "fixed: 0, unused (REFLECT)", "name": "fixed: None"}

class ConvOps:
    @implements("conv.conv1d", native=(
                    "tensorflow.nn.conv1d",
                    "tensorflow.pad",
                    "tensorflow.nn.bias_add",
                ),
                params=CONV_PARAMS)
    def conv1d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return conv(x, w, b, stride, padding, dilation)  # groups: from the kernel's depth

    @implements("conv.conv2d", native=(
                    "tensorflow.nn.conv2d",
                    "tensorflow.pad",
                    "tensorflow.nn.bias_add",
                ),
                params=CONV_PARAMS)
    def conv2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return conv(x, w, b, stride, padding, dilation)

    @implements("conv.conv1d/padding_mode", composed=True, native="tensorflow.pad",
                params=PAD_PARAMS)
    @implements("conv.conv2d/padding_mode", composed=True, native="tensorflow.pad",
                params=PAD_PARAMS)
    def conv_padding_mode(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                          padding: Any = 0, dilation: Any = 1, groups: int = 1,
                          padding_mode: str = "zeros") -> Any:
        if padding_mode == "zeros":
            return conv(x, w, b, stride, padding, dilation)
        r = len(x.shape) - 2
        pads = conv_pads(padding, x.shape[2:], w.shape[2:], as_tuple(stride, r),
                         as_tuple(dilation, r))
        return conv(pad_mode(x, pads, padding_mode), w, b, stride, "valid", dilation)

    @implements("conv.conv3d", native=(
                    "tensorflow.nn.conv3d",
                    "tensorflow.pad",
                    "tensorflow.nn.bias_add",
                ),
                params={**CONV_PARAMS,
                        "dilations": "fixed: 1; the conv.conv3d menu has no dilation"})
    def conv3d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return conv(x, w, b, stride, padding, dilation)

    @implements("conv.conv3d/extended", composed=True)
    def conv3d_grouped(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                       padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Any:
        # No grouped conv3d kernel on the CPU: one conv3d per group, concatenated.
        xs = tf.split(channels_last(x), groups, axis=-1)
        ks = tf.split(conv_kernel(w), groups, axis=-1)
        y = tf.concat([_conv_nlc(xg, kg, stride, padding, dilation)
                       for xg, kg in zip(xs, ks, strict=True)], axis=-1)
        return channels_first(y if b is None else tf.nn.bias_add(y, b))

    @implements("conv.conv_transpose2d", native=(
                    "tensorflow.nn.conv2d_transpose",
                    "tensorflow.pad",
                    "tensorflow.nn.bias_add",
                ),
                params={**CONV_PARAMS,
                        "padding": "fixed: VALID; the torch padding is a crop afterwards"})
    def conv_transpose2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                         padding: Any = 0, output_padding: Any = 0, dilation: Any = 1,
                         groups: int = 1) -> Any:
        s, p, op, d = as_tuples(2, stride, padding, output_padding, dilation)
        n, c_out = x.shape[0], w.shape[1] * groups
        k = w.shape[2:]
        full = [(m - 1) * si + di * (ki - 1) + 1
                for m, si, di, ki in zip(x.shape[2:], s, d, k, strict=True)]
        inside = [o if o < si else 0 for o, si in zip(op, s, strict=True)]
        y = tf.nn.conv2d_transpose(
            channels_last(x), tf.transpose(w, [2, 3, 1, 0]),
            output_shape=[n, *(f + e for f, e in zip(full, inside, strict=True)), c_out],
            strides=[1, *s, 1], padding="VALID", dilations=[1, *d, 1])
        extra = [o - e for o, e in zip(op, inside, strict=True)]
        if any(extra):
            y = tf.pad(y, [[0, 0], *([0, e] for e in extra), [0, 0]])
        size = [f + o - 2 * pi for f, o, pi in zip(full, op, p, strict=True)]
        y = y[:, p[0]:p[0] + size[0], p[1]:p[1] + size[1], :]
        return channels_first(y if b is None else tf.nn.bias_add(y, b))

    @implements("conv.depthwise2d", native=(
                    "tensorflow.nn.depthwise_conv2d",
                    "tensorflow.pad",
                    "tensorflow.nn.bias_add",
                ),
                params=CONV_PARAMS)
    def depthwise_conv2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                         padding: Any = 0, dilation: Any = 1) -> Any:
        c = x.shape[1]
        k = w.shape[2:]
        filt = tf.transpose(tf.reshape(w, [c, w.shape[0] // c, *k]), [2, 3, 0, 1])
        s, d = as_tuple(stride, 2), as_tuple(dilation, 2)
        xl = channels_last(x)
        if isinstance(padding, str):
            pad = padding.upper()
        else:
            # tf.pad, then 'VALID': the same windows; an explicit padding list makes
            # DepthwiseConv2dNative's shape inference abort the process inside tf.function
            # (CHECK "Invalid index from the dimension", TF 2.21; eager is unaffected).
            xl = tf.pad(xl, [[0, 0], *([q, q] for q in as_tuple(padding, 2)), [0, 0]])
            pad = "VALID"
        y = tf.nn.depthwise_conv2d(xl, filt, strides=[1, *s, 1], padding=pad, dilations=d)
        return channels_first(y if b is None else tf.nn.bias_add(y, b))

    @implements("conv.edge_detect", composed=True)
    def edge_detect(self, image: Any) -> Any:
        # No edge-detection op: tf.nn.conv2d with the constant kernel, 'VALID'.
        k = tf.constant(EDGE_KERNEL, dtype=image.dtype)[:, :, None, None]
        if len(image.shape) == 2:
            return tf.nn.conv2d(image[None, :, :, None], k, 1, "VALID")[0, :, :, 0]
        return channels_first(tf.nn.conv2d(channels_last(image), k, 1, "VALID"))
