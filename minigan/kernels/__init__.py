"""minigan's fast paths: each a faster version of an operation whose plain math lives in a
layer file (minigan/nn/, minigan/optim/), registered under that operation's name and chosen in
one place, minigan/dispatch.py.

    activation.py   LeakyReLU forward and backward, one fused pass
    adam.py         Adam's update, fused (numba / CUDA), all parameters in one GPU launch
    batchnorm.py    training BatchNorm, one pass per channel each way
    conv.py         Conv2d, ConvTranspose2d: batch-last GEMMs, workspaces, no padding's work
    dropout.py      Dropout with its Philox mask made inside the kernel
    gradients.py    zeroing every gradient in one GPU launch
    im2col.py       im2col and col2im in one parallel pass
    linear.py       Linear in the batch-last layout, dW into a reused buffer
    loss.py         BCE with logits, one fused GPU reduction
    reshape.py      Reshape and Flatten without leaving the batch-last layout

and what they are built from: ops.py (one call per raw kernel), cpu.py (numba), gpu.py and
gpu_kernels.cu (CUDA), conv_taps.py (convolutions without the padding's work), winograd.py
and winograd_cpu.py (the 4×4 stride-2 convolutions with 9 products per tile, not 16), layout.py
(the batch-last memory layout), workspace.py (reused scratch arrays), threads.py (numba's
threads). tests/test_kernels.py checks every fast version against its plain math.
"""
from . import activation, adam, batchnorm, conv, dropout, gradients, im2col, linear, loss, reshape  # noqa: F401,E501  (registers them)
