"""Fast Conv2d and ConvTranspose2d (nn/conv.py, nn/conv_transpose.py): the same sums in the
batch-last layout (layout.py), im2col and col2im by one kernel pass into reused buffers, and on
the CPU without the padding's work where that pays (conv_taps.py and its size rules):

* Conv2d forward and ∂L/∂W: one GEMM per run of output rows that read the same in-image kernel
  rows; ∂L/∂x as the transposed convolution's stride² phases, each a plain stride-1
  correlation of dY (no col2im);
* ConvTranspose2d forward as stride² phases (the sub-pixel decomposition); its backward's
  im2col(dy) and both GEMMs by runs of rows;
* both, with kernel 4, stride 2 and padding 1 (the 64×64 DCGAN's), as Winograd tiles:
  9 multiplies where the GEMM does 16 (winograd.py).

Elsewhere (a GPU, or shapes where the size rules say no) the plain algorithm runs: one GEMM
over im2col's columns, col2im for the adjoint. On a GPU with ``mg.backend.conv_tf32`` set the
GEMMs run on TF32 tensor cores (PyTorch's cuDNN default).
"""
import numpy as np

from .. import backend
from ..arrays import get_array_module
from ..dispatch import register
from . import conv_taps, ops, winograd
from .im2col import col2im_image, im2col_into
from .layout import batch_first, batch_last, contiguous_batch_last
from .workspace import workspace_of


def conv_matmul(a, b, out=None):
    """a @ b, one of a convolution's matrix products. On a GPU with ``mg.backend.conv_tf32``
    set, float32 products run on TF32 tensor cores (as PyTorch's convolutions by default)."""
    xp = get_array_module(a)
    if backend.conv_tf32 and xp is not np and a.dtype == np.float32:
        return ops.tf32_matmul(a, b, out)
    return xp.matmul(a, b, out=out)


class WinogradCache:
    """What a Winograd forward keeps for its backward: the weights' transform U and the
    input's tiles (V for Conv2d, E for ConvTranspose2d), in the layer's workspace."""

    def __init__(self, U, tiles):
        self.U, self.tiles = U, tiles


# ----------------------------------------------------------------------------- Conv2d
@register("Conv2d.forward")
def conv2d_forward(layer, x):
    layer._check_input(x, 4, 1, layer.in_channels)
    n, _, h, w = x.shape
    ho, wo = layer.output_size(h, w)
    ws = workspace_of(layer)
    if winograd.applies(x, layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                        layer.padding, (h, w)):
        return _conv2d_forward_winograd(layer, x, (n, h, w), (ho, wo))
    if ops.conv_taps(x) and conv_taps.rows_worth_splitting(ho, h, layer.kernel_size[0],
                                                            layer.stride[0], layer.padding[0]):
        return _conv2d_forward_by_blocks(layer, x, (n, h, w), (ho, wo))
    columns = im2col_into(batch_last(x), layer.kernel_size, layer.stride, layer.padding, (ho, wo),
                          ws)                                                 # (Cin·kh·kw, Ho·Wo·N)
    y = conv_matmul(layer.weight.data.reshape(layer.out_channels, -1), columns)  # (Cout, Ho·Wo·N)
    if layer.bias is not None:
        y += layer.bias.data[:, None]
    layer._cache = (columns, (n, h, w), (ho, wo))
    return batch_first(y.reshape(layer.out_channels, ho, wo, n))


def _conv2d_forward_winograd(layer, x, nhw, out_hw):
    """y = the correlation by Winograd tiles (winograd.py); V and U are kept for the backward."""
    ws = workspace_of(layer)
    V = winograd.transform_input(contiguous_batch_last(x), ws, "wino")    # (9, 4·Cin, T·N)
    U = winograd.transform_weight(layer.weight.data, ws, "wino")          # (9, Cout, 4·Cin)
    y = winograd.correlate(V, U, out_hw, nhw[0], ws, "wino")              # (Cout, Ho, Wo, N)
    if layer.bias is not None:
        y += layer.bias.data[:, None, None, None]
    layer._cache = (WinogradCache(U, V), nhw, out_hw)
    return batch_first(y)


def _conv2d_backward_winograd(layer, dy_t, cache, nhw, need_input_grad):
    """Both gradients from the tiles of dy: ∂L/∂W from E and the forward's V, ∂L/∂x as the
    transposed algebra (winograd.py)."""
    ws = workspace_of(layer)
    n, h, w = nhw
    E = winograd.transform_gradient(dy_t, ws, "wino")                     # (9, Cout, T·N)
    if layer.weight.requires_grad:
        winograd.weight_grad(E, cache.tiles, layer.weight.grad, ws, "wino")
    if layer.bias is not None and layer.bias.requires_grad:
        layer.bias.grad += dy_t.sum(axis=(1, 2, 3))
    if not need_input_grad:
        return None
    return batch_first(winograd.correlate_adjoint(E, cache.U, (h, w), n, ws, "wino"))


def _conv2d_forward_by_blocks(layer, x, nhw, out_hw):
    """The forward without the row padding's work (conv_taps.correlate); the blocks it
    gathered are cached for ∂L/∂W instead of the im2col columns."""
    xp = get_array_module(x)
    x_t = contiguous_batch_last(x)                                            # (Cin, H, W, N)
    y = xp.empty((layer.out_channels, *out_hw, nhw[0]), dtype=x.dtype)        # (Cout, Ho, Wo, N)
    blocks = conv_taps.correlate(x_t, layer.weight.data, layer.stride, layer.padding, out_hw,
                                 workspace_of(layer), "fwd", out=y)
    if layer.bias is not None:
        y += layer.bias.data[:, None, None, None]
    layer._cache = (blocks, nhw, out_hw)
    return batch_first(y)


@register("Conv2d.backward")
def conv2d_backward(layer, grad_output, need_input_grad=True):
    columns, (n, h, w), (ho, wo) = layer._get_cache()
    layer._check_grad(grad_output, (n, layer.out_channels, ho, wo), layer.weight.data)
    ws = workspace_of(layer)
    dy_t = contiguous_batch_last(grad_output)                                 # (Cout, Ho, Wo, N)
    if isinstance(columns, WinogradCache):
        return _conv2d_backward_winograd(layer, dy_t, columns, (n, h, w), need_input_grad)
    dy = dy_t.reshape(layer.out_channels, -1)                                 # (Cout, Ho·Wo·N)
    xp = get_array_module(dy)
    if layer.weight.requires_grad and isinstance(columns, list):             # the forward's blocks
        conv_taps.weight_grad(dy_t, columns, layer.weight.grad, ws, "fwd")
    elif layer.weight.requires_grad:
        dw = ws.get("dw", xp, (layer.out_channels, columns.shape[0]), dy.dtype)  # reused, no page faults
        layer.weight.grad += conv_matmul(dy, columns.T, out=dw).reshape(layer.weight.data.shape)
    if layer.bias is not None and layer.bias.requires_grad:
        layer.bias.grad += dy.sum(axis=1)
    if not need_input_grad:
        return None
    if ops.conv_taps(dy) and conv_taps.phases_worth_it(
            layer.out_channels, layer.in_channels,
            conv_taps.useful_fraction(ho, h, layer.kernel_size[0], layer.stride[0], layer.padding[0])):
        dx = conv_taps.transposed(dy_t, layer.weight.data, layer.stride, layer.padding, (h, w),
                                  ws, "bwd")                                  # (Cin, H, W, N)
        return batch_first(dx)
    dcolumns = ws.get("gemm", xp, (layer.weight.data[0].size, dy.shape[1]), dy.dtype)
    conv_matmul(layer.weight.data.reshape(layer.out_channels, -1).T, dy, out=dcolumns)  # (Cin·kh·kw, Ho·Wo·N)
    dx = col2im_image(dcolumns, layer.in_channels, (h, w), layer.kernel_size, layer.stride,
                      layer.padding, (ho, wo))
    return batch_first(dx)


# ----------------------------------------------------------------------------- ConvTranspose2d
@register("ConvTranspose2d.forward")
def conv_transpose2d_forward(layer, x):
    layer._check_input(x, 4, 1, layer.in_channels)
    n, _, h, w = x.shape
    ho, wo = layer.output_size(h, w)
    ws = workspace_of(layer)
    x_t = contiguous_batch_last(x)                                            # (Cin, H, W, N)
    layer._cache = (x_t, (n, h, w), (ho, wo))
    if (ho, wo) == (2 * h, 2 * w) and winograd.applies(
            x, layer.out_channels, layer.in_channels, layer.kernel_size, layer.stride, layer.padding,
            (ho, wo)):
        # the correlation Conv2d(Cout -> Cin, same weight array)'s ∂L/∂x, with x as its ∂L/∂y
        E = winograd.transform_gradient(x_t, ws, "wino")                      # (9, Cin, T·N)
        U = winograd.transform_weight(layer.weight.data, ws, "wino")          # (9, Cin, 4·Cout)
        y = winograd.correlate_adjoint(E, U, (ho, wo), n, ws, "wino")         # (Cout, Ho, Wo, N)
        layer._cache = (x_t, (n, h, w), (ho, wo), WinogradCache(U, E))
    elif ops.conv_taps(x) and conv_taps.phases_worth_it(
            layer.in_channels, layer.out_channels,
            conv_taps.useful_fraction(h, ho, layer.kernel_size[0], layer.stride[0], layer.padding[0])):
        y = conv_taps.transposed(x_t, layer.weight.data, layer.stride, layer.padding, (ho, wo),
                                 ws, "fwd")                                   # (Cout, Ho, Wo, N)
    else:
        kh, kw = layer.kernel_size
        x_cols = x_t.reshape(layer.in_channels, -1)                           # (Cin, H·W·N)
        xp = get_array_module(x)
        columns = ws.get("gemm", xp, (layer.out_channels * kh * kw, x_cols.shape[1]), x.dtype)
        conv_matmul(layer.weight.data.reshape(layer.in_channels, -1).T, x_cols, out=columns)  # (Cout·kh·kw, H·W·N)
        y = col2im_image(columns, layer.out_channels, (ho, wo), layer.kernel_size, layer.stride,
                         layer.padding, (h, w))                               # (Cout, Ho, Wo, N)
    if layer.bias is not None:
        y += layer.bias.data[:, None, None, None]
    return batch_first(y)


@register("ConvTranspose2d.backward")
def conv_transpose2d_backward(layer, grad_output, need_input_grad=True):
    x_t, (n, h, w), (ho, wo), *wino = layer._get_cache()
    layer._check_grad(grad_output, (n, layer.out_channels, ho, wo), x_t)
    if layer.bias is not None and layer.bias.requires_grad:
        layer.bias.grad += batch_last(grad_output).sum(axis=(1, 2, 3))
    if wino:
        return _conv_transpose2d_backward_winograd(layer, grad_output, wino[0], (n, h, w),
                                                   need_input_grad)
    if ops.conv_taps(x_t) and conv_taps.rows_worth_splitting(
            h, ho, layer.kernel_size[0], layer.stride[0], layer.padding[0]):
        return _conv_transpose2d_backward_by_blocks(layer, grad_output, x_t, need_input_grad)
    dy = batch_last(grad_output)                                              # (Cout, Ho, Wo, N)
    dcolumns = im2col_into(dy, layer.kernel_size, layer.stride, layer.padding, (h, w),
                           workspace_of(layer))
    x_cols = x_t.reshape(layer.in_channels, -1)                               # (Cin, H·W·N)
    if layer.weight.requires_grad:
        dw = workspace_of(layer).get("dw", get_array_module(x_cols), (layer.in_channels, dcolumns.shape[0]),
                                     x_cols.dtype)                             # reused, no page faults
        layer.weight.grad += conv_matmul(x_cols, dcolumns.T, out=dw).reshape(layer.weight.data.shape)
    if not need_input_grad:
        return None
    dx = conv_matmul(layer.weight.data.reshape(layer.in_channels, -1), dcolumns)  # (Cin, H·W·N)
    return batch_first(dx.reshape(layer.in_channels, h, w, n))


def _conv_transpose2d_backward_winograd(layer, grad_output, cache, nhw, need_input_grad):
    """∂L/∂x = the correlation's forward on dy, ∂L/∂W from its tiles V and the forward's E."""
    ws = workspace_of(layer)
    V = winograd.transform_input(contiguous_batch_last(grad_output), ws, "wino")  # (9, 4·Cout, T·N)
    if layer.weight.requires_grad:
        winograd.weight_grad(cache.tiles, V, layer.weight.grad, ws, "wino")
    if not need_input_grad:
        return None
    return batch_first(winograd.correlate(V, cache.U, nhw[1:], nhw[0], ws, "wino"))  # (Cin, H, W, N)


def _conv_transpose2d_backward_by_blocks(layer, grad_output, x_t, need_input_grad):
    """∂L/∂x = the correlation of dy with W (Cin outputs), by runs of rows without their
    padding; ∂L/∂W from the same blocks, with x as that correlation's output gradient:
        ∂L/∂W[c, o, i, j] += Σ_{h,w,n} x[c, h, w, n] · dy[o, h·sh + i − ph, w·sw + j − pw, n]."""
    ws = workspace_of(layer)
    dy = contiguous_batch_last(grad_output)                                   # (Cout, Ho, Wo, N)
    xp = get_array_module(dy)
    dx = xp.empty_like(x_t) if need_input_grad else None                     # (Cin, H, W, N)
    blocks = conv_taps.correlate(dy, layer.weight.data, layer.stride, layer.padding, x_t.shape[1:3],
                                 ws, "bwd", out=dx)
    if layer.weight.requires_grad:
        conv_taps.weight_grad(x_t, blocks, layer.weight.grad, ws, "bwd")
    return None if dx is None else batch_first(dx)
