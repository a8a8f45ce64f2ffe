"""JAX mappings of the ``conv`` family: ``lax.conv_general_dilated`` on the oracle's layouts.

``dimension_numbers`` names the canonical layouts directly (NCH/OIH, NCHW/OIHW,
NCDHW/OIDHW), so nothing is transposed. Padding: 'valid' -> 'VALID', 'same' -> 'SAME'
(floor(total/2) before: the oracle's split, docs/conventions/conv.md §7), ints -> explicit
pairs.

Transposed convolution: ``lax.conv_transpose`` is conv_general_dilated with
``lhs_dilation = stride`` on a flipped kernel, but it has no ``feature_group_count``; this
mapping makes that same call itself, so groups work: the input is dilated by the stride,
padded by d(k-1) - p before and d(k-1) - p + output_padding after (negative = cropped),
and correlated with the kernel flipped spatially and with I and O swapped inside each group
(the "flip rule" of docs/conventions/conv.md §7.1: without the flip, JAX's transposed conv
is not torch's).
"""

from __future__ import annotations

from typing import Any

from adapters._shared import EDGE_KERNEL, as_tuple, as_tuples, conv_pads
from adapters.base import implements
from adapters.jax._lazy import jnp, lax

LAYOUTS = {1: ("NCH", "OIH", "NCH"), 2: ("NCHW", "OIHW", "NCHW"),
           3: ("NCDHW", "OIDHW", "NCDHW")}


def lax_padding(padding: Any, r: int) -> Any:
    if isinstance(padding, str):
        return padding.upper()
    return [(p, p) for p in as_tuple(padding, r)]


def add_bias(y: Any, b: Any) -> Any:
    return y if b is None else y + b.reshape((1, -1) + (1,) * (y.ndim - 2))


def conv(x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any, groups: int) -> Any:
    r = x.ndim - 2
    y = lax.conv_general_dilated(
        x, w, window_strides=as_tuple(stride, r), padding=lax_padding(padding, r),
        rhs_dilation=as_tuple(dilation, r), feature_group_count=groups,
        dimension_numbers=LAYOUTS[r])
    return add_bias(y, b)


# torch's padding_mode -> jnp.pad's mode ("zeros" keeps the convolution's own padding).
JNP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

# lax.conv_general_dilated's keywords, as every mapping below passes them.
CONV_PARAMS = {
    "lhs_dilation": "fixed: None (no input dilation)",
    "rhs_dilation": "drawn: from dilation",
    "dimension_numbers": "fixed: the canonical NC*/OI* layouts",
    "feature_group_count": "drawn: from groups",
    "batch_group_count": "fixed: 1",
    "precision": "fixed: None, the backend default",
    "out_sharding": "fixed: None, one device",
    "preferred_element_type": "fixed: None, the input dtype",
}
PAD_PARAMS = {"mode": "drawn: from padding_mode",
              "constant_values": "fixed: unused (no constant mode)",
              "end_values": "fixed: unused (no linear_ramp mode)",
              "reflect_type": "fixed: even, torch's reflect"}


class ConvOps:
    @implements("conv.conv1d", native="jax.lax.conv_general_dilated",
                params=CONV_PARAMS)
    def conv1d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return conv(x, w, b, stride, padding, dilation, groups)

    @implements("conv.conv2d", native="jax.lax.conv_general_dilated",
                params=CONV_PARAMS)
    def conv2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return conv(x, w, b, stride, padding, dilation, groups)

    @implements("conv.conv1d/padding_mode", composed=True, native="jax.numpy.pad",
                params=PAD_PARAMS)
    @implements("conv.conv2d/padding_mode", composed=True, native="jax.numpy.pad",
                params=PAD_PARAMS)
    def conv_padding_mode(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                          padding: Any = 0, dilation: Any = 1, groups: int = 1,
                          padding_mode: str = "zeros") -> Any:
        # lax convolutions pad with zeros only: jnp.pad in the mode, then 'VALID'.
        if padding_mode == "zeros":
            return conv(x, w, b, stride, padding, dilation, groups)
        r = x.ndim - 2
        pads = conv_pads(padding, x.shape[2:], w.shape[2:], as_tuple(stride, r),
                         as_tuple(dilation, r))
        xp = jnp.pad(x, [(0, 0), (0, 0), *pads], mode=JNP_MODES[padding_mode])
        return conv(xp, w, b, stride, "valid", dilation, groups)

    @implements("conv.conv3d", native="jax.lax.conv_general_dilated",
                params=CONV_PARAMS)
    def conv3d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return conv(x, w, b, stride, padding, dilation, groups)

    @implements("conv.conv_transpose2d", native="jax.lax.conv_general_dilated",
                params={**CONV_PARAMS,
                        "lhs_dilation": "drawn: from stride (a transposed convolution "
                                        "dilates its input by the stride)"})
    def conv_transpose2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                         padding: Any = 0, output_padding: Any = 0, dilation: Any = 1,
                         groups: int = 1) -> Any:
        s, p, op, d = as_tuples(2, stride, padding, output_padding, dilation)
        c_in, c_out_g = w.shape[0], w.shape[1]
        k = w.shape[2:]
        # (I, O/g, k) -> (g, I/g, O/g, k) -> (g, O/g, I/g, k) -> (O, I/g, k), flipped.
        wt = w.reshape((groups, c_in // groups, c_out_g) + k).transpose(0, 2, 1, 3, 4)
        wt = jnp.flip(wt.reshape((groups * c_out_g, c_in // groups) + k), axis=(2, 3))
        pads = [(di * (ki - 1) - pi, di * (ki - 1) - pi + oi)
                for ki, pi, oi, di in zip(k, p, op, d, strict=True)]
        y = lax.conv_general_dilated(x, wt, window_strides=(1, 1), padding=pads,
                                     lhs_dilation=s, rhs_dilation=d,
                                     feature_group_count=groups, dimension_numbers=LAYOUTS[2])
        return add_bias(y, b)

    @implements("conv.depthwise2d", native="jax.lax.conv_general_dilated",
                params={**CONV_PARAMS,
                        "feature_group_count": "drawn: from x.shape (one group per input "
                                               "channel)"})
    def depthwise_conv2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                         padding: Any = 0, dilation: Any = 1) -> Any:
        # Depthwise: feature_group_count = C_in, w (C*mult, 1, kH, kW) as OIHW.
        return conv(x, w, b, stride, padding, dilation, x.shape[1])

    @implements("conv.edge_detect", composed=True)
    def edge_detect(self, image: Any) -> Any:
        # No edge-detection op: a convolution with the constant kernel, no padding.
        k = jnp.asarray(EDGE_KERNEL, dtype=image.dtype)[None, None]
        if image.ndim == 2:
            return conv(image[None, None], k, None, 1, 0, 1, 1)[0, 0]
        return conv(image, k, None, 1, 0, 1, 1)
