"""Fast im2col and col2im (nn/im2col.py): one parallel pass each (numba, or one CUDA kernel).

im2col copies every window entry straight from x (zero where it overhangs), with no padded
copy of the image; col2im gives each channel to one thread (CPU), which adds that channel's
column entries in memory order into its image, or each output pixel to one thread (GPU), which
gathers the entries that came from it — so no two threads add into the same pixel: no
atomics, and deterministic.
``im2col_into`` / ``col2im_image`` are the versions the fast convolutions call, writing into
a reused workspace buffer.
"""
import numpy as np

from ..arrays import get_array_module
from ..dispatch import register
from . import ops


def _plain():
    from ..nn import im2col as plain        # the reference, for what the kernels do not handle
    return plain


@register("im2col")
def im2col(x, kernel, stride, padding, out_hw):
    C, H, W, N = x.shape
    xp = get_array_module(x)
    out = xp.empty((C, *kernel, *out_hw, N), dtype=x.dtype)
    if ops.im2col(x, kernel, stride, padding, out_hw, out) is None:
        return NotImplemented
    return out.reshape(C * kernel[0] * kernel[1], -1)


@register("col2im")
def col2im(columns, channels, image_hw, kernel, stride, padding, in_hw):
    xp = get_array_module(columns)
    N = columns.shape[1] // (in_hw[0] * in_hw[1])
    cols = columns.reshape(channels, *kernel, *in_hw, N)
    image = xp.empty((channels, *image_hw, N), dtype=columns.dtype)
    if ops.col2im(cols, kernel, stride, padding, image) is None:
        return NotImplemented
    return image


def im2col_into(x, kernel, stride, padding, out_hw, workspace, name="columns"):
    """im2col of x (C, H, W, N) into the workspace's buffer ``name``: (C·kh·kw, Ho·Wo·N)."""
    xp = get_array_module(x)
    C, H, W, N = x.shape
    columns = workspace.get(name, xp, (C, *kernel, *out_hw, N), x.dtype)
    if xp is np and not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)                  # the numba kernel reads C order
    if ops.im2col(x, kernel, stride, padding, out_hw, columns) is not None:
        return columns.reshape(C * kernel[0] * kernel[1], out_hw[0] * out_hw[1] * N)
    return _plain().im2col.plain(x, kernel, stride, padding, out_hw)


def col2im_image(columns, channels, image_hw, kernel, stride, padding, in_hw):
    """col2im by the kernel, or by the plain reference where the kernel does not apply."""
    image = col2im(columns, channels, image_hw, kernel, stride, padding, in_hw)
    if image is NotImplemented:
        return _plain().col2im.plain(columns, channels, image_hw, kernel, stride, padding, in_hw)
    return image
