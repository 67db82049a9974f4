# ruff: noqa: E501  (the table of mutations holds code snippets on one line each)
"""Mutation run: do the tests fail when a formula is wrong?

Applies, one at a time, targeted mutations to every backward and optimizer update — on the
plain path (the layer files, minigan/nn/ and minigan/optim/) and on the fast path
(minigan/kernels/: the fast versions and the numba kernels) — and runs the engine's tests
against each mutated copy of the package. A mutation the tests do not fail "survives".

    python tests/mutate.py                    # every mutation, 2 at a time; writes the report
    python tests/mutate.py --only linear      # the mutations whose file or name contains "linear"
    python tests/mutate.py --list             # what would be applied

Each mutation runs ``pytest -q -x`` over ENGINE_TESTS (every test that exercises the engine:
the gradchecks, the PyTorch oracle, the direct formula checks, the fast-equals-plain checks,
the docs) in a private copy of the repository, with the mutated file in place; the first
failing test is recorded, so the report shows what a learner would be told. The last report
is committed as tests/mutation_report.md. GPU-only code (CUDA kernels, the TF32 products,
the one-launch Adam and zeroing) is not mutated here: it needs a GPU to run.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(ROOT, "tests", "mutation_report.md")

ENGINE_TESTS = [          # fastest first: a mutation usually dies in the first seconds
    "tests/test_formulas.py", "tests/test_nn_gradcheck.py", "tests/test_kernels.py",
    "tests/test_nn_oracle.py", "tests/test_conv_taps.py", "tests/test_winograd.py", "tests/test_dropout_mask.py",
    "tests/test_spectral_norm_hinge.py", "tests/test_cross_entropy.py", "tests/test_pooling.py",
    "tests/test_requires_grad.py", "tests/test_nn_module.py", "tests/test_docs.py",
]

# (file, path, kind, text to find — exactly once in the file —, its replacement)
MUTATIONS = [
    # ---------------------------------------------------------------- Linear
    ("minigan/nn/linear.py", "plain", "scale 1.01",
     "self.weight.grad += dy.T @ x", "self.weight.grad += 1.01 * (dy.T @ x)"),
    ("minigan/nn/linear.py", "plain", "transpose",
     "self.weight.grad += dy.T @ x", "self.weight.grad += (x.T @ dy).T[::-1, ::-1]"),
    ("minigan/nn/linear.py", "plain", "mean for sum",
     "self.bias.grad += dy.sum(axis=0)", "self.bias.grad += dy.mean(axis=0)"),
    ("minigan/nn/linear.py", "plain", "flip sign",
     "return dy @ self.weight.data ", "return -dy @ self.weight.data "),
    ("minigan/kernels/linear.py", "fast", "scale 1.01",
     "layer.weight.grad += xp.matmul(dy_t, x, out=dw)", "layer.weight.grad += 1.01 * xp.matmul(dy_t, x, out=dw)"),
    ("minigan/kernels/linear.py", "fast", "flip sign",
     "layer.bias.grad += dy_t.sum(axis=1)", "layer.bias.grad -= dy_t.sum(axis=1)"),
    ("minigan/kernels/linear.py", "fast", "transpose",
     "return batch_first(layer.weight.data.T @ dy_t)", "return batch_first(layer.weight.data.T[::-1] @ dy_t)"),
    # ---------------------------------------------------------------- Conv2d
    ("minigan/nn/conv.py", "plain", "scale 1.01",
     "self.weight.grad += (dY @ X.T)", "self.weight.grad += 1.01 * (dY @ X.T)"),
    ("minigan/nn/conv.py", "plain", "transpose",
     "(dY @ X.T).reshape(self.weight.data.shape)", "(dY @ X.T).reshape(self.weight.data.shape).transpose(0, 1, 3, 2)"),
    ("minigan/nn/conv.py", "plain", "mean for sum",
     "self.bias.grad += dY.sum(axis=1)", "self.bias.grad += dY.mean(axis=1)"),
    ("minigan/nn/conv.py", "plain", "flip sign",
     "dx = col2im(W.T @ dY,", "dx = col2im(-W.T @ dY,"),
    ("minigan/nn/conv.py", "plain", "stride left out",
     "dx = col2im(W.T @ dY, self.in_channels, (h, w), self.kernel_size, self.stride,",
     "dx = col2im(W.T @ dY, self.in_channels, (h, w), self.kernel_size, (1, 1),"),
    ("minigan/kernels/conv.py", "fast", "scale 1.01",
     "layer.weight.grad += conv_matmul(dy, columns.T, out=dw)", "layer.weight.grad += 1.01 * conv_matmul(dy, columns.T, out=dw)"),
    ("minigan/kernels/conv.py", "fast", "flip sign",
     "        layer.bias.grad += dy.sum(axis=1)", "        layer.bias.grad -= dy.sum(axis=1)"),
    ("minigan/kernels/conv.py", "fast", "scale 1.01",
     "                                  ws, \"bwd\")                                  # (Cin, H, W, N)\n        return batch_first(dx)",
     "                                  ws, \"bwd\")                                  # (Cin, H, W, N)\n        return batch_first(1.01 * dx)"),
    ("minigan/kernels/conv.py", "fast", "flip sign",
     "dx = col2im_image(dcolumns, layer.in_channels,", "dx = col2im_image(-dcolumns, layer.in_channels,"),
    # ---------------------------------------------------------------- ConvTranspose2d
    ("minigan/nn/conv_transpose.py", "plain", "scale 1.01",
     "self.weight.grad += (x_cols @ D.T)", "self.weight.grad += 1.01 * (x_cols @ D.T)"),
    ("minigan/nn/conv_transpose.py", "plain", "wrong axis",
     "self.bias.grad += dy.sum(axis=(1, 2, 3))", "self.bias.grad += dy.sum(axis=(1, 2, 3)) / dy.shape[3]"),
    ("minigan/nn/conv_transpose.py", "plain", "flip sign",
     "dx = self.weight.data.reshape(self.in_channels, -1) @ D", "dx = -self.weight.data.reshape(self.in_channels, -1) @ D"),
    ("minigan/nn/conv_transpose.py", "plain", "transpose",
     "C = self.weight.data.reshape(self.in_channels, -1).T @ x_cols",
     "C = self.weight.data.transpose(0, 1, 3, 2).reshape(self.in_channels, -1).T @ x_cols"),
    ("minigan/kernels/conv.py", "fast", "scale 1.01",
     "layer.weight.grad += conv_matmul(x_cols, dcolumns.T, out=dw)", "layer.weight.grad += 1.01 * conv_matmul(x_cols, dcolumns.T, out=dw)"),
    ("minigan/kernels/conv.py", "fast", "flip sign",
     "dx = conv_matmul(layer.weight.data.reshape(layer.in_channels, -1), dcolumns)",
     "dx = -conv_matmul(layer.weight.data.reshape(layer.in_channels, -1), dcolumns)"),
    ("minigan/kernels/conv.py", "fast", "scale 1.01",
     "layer.bias.grad += batch_last(grad_output).sum(axis=(1, 2, 3))",
     "layer.bias.grad += 1.01 * batch_last(grad_output).sum(axis=(1, 2, 3))"),
    # ---------------------------------------------------------------- conv_taps (fast)
    ("minigan/kernels/conv_taps.py", "fast", "scale 1.01",
     "dK[:, ih0:ih1] += (g_b @ X_b.T)", "dK[:, ih0:ih1] += 1.01 * (g_b @ X_b.T)"),
    ("minigan/kernels/conv_taps.py", "fast", "flip sign",
     "out[:, oh0:oh1] = Y_b.reshape(Cout, oh1 - oh0, Wo, N)", "out[:, oh0:oh1] = -Y_b.reshape(Cout, oh1 - oh0, Wo, N)"),
    ("minigan/kernels/conv_taps.py", "fast", "transpose",
     "[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)", "[:, :, ::-1, :].transpose(1, 0, 2, 3)"),
    ("minigan/kernels/conv_taps.py", "fast", "padding left out",
     "h0 = oh0 * sh + ih0 - ph", "h0 = oh0 * sh + ih0"),
    # ---------------------------------------------------------------- im2col / col2im
    ("minigan/nn/im2col.py", "plain", "stride left out",
     "columns[:, i, j] = padded[:, i:i + sh * Ho:sh,", "columns[:, i, j] = padded[:, i:i + Ho,"),
    ("minigan/nn/im2col.py", "plain", "assign for add",
     "padded[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] += cols[:, i, j]",
     "padded[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] = cols[:, i, j]"),
    ("minigan/nn/im2col.py", "plain", "padding left out",
     "return xp.ascontiguousarray(padded[:, ph:ph + H, pw:pw + W, :])", "return xp.ascontiguousarray(padded[:, :H, :W, :])"),
    ("minigan/nn/im2col.py", "plain", "transpose",
     "padded[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] += cols[:, i, j]",
     "padded[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] += cols[:, kh - 1 - i, j]"),
    ("minigan/kernels/cpu.py", "fast", "padding left out",
     "                    w = ow * sw + j - pw\n                    if 0 <= w < W:",
     "                    w = ow * sw + j\n                    if 0 <= w < W:"),
    ("minigan/kernels/cpu.py", "fast", "stride left out",
     "                h = oh * sh + i - ph\n                if h < 0 or h >= H:\n                    continue",
     "                h = oh + i - ph\n                if h < 0 or h >= H:\n                    continue"),
    ("minigan/kernels/cpu.py", "fast", "assign for add",
     "                            oc[h, w, n] += src[ow, n]", "                            oc[h, w, n] = src[ow, n]"),
    ("minigan/kernels/cpu.py", "fast", "padding left out",
     "                        w = ow * sw + j - pw\n                        if w < 0 or w >= W:",
     "                        w = ow * sw + j\n                        if w < 0 or w >= W:"),
    ("minigan/kernels/cpu.py", "fast", "transpose",
     "                            dst[ow, n] = xc[h, w, n]", "                            dst[ow, n] = xc[w % H, h % W, n]"),
    ("minigan/kernels/cpu.py", "fast", "transpose",
     "out[i, j, c, a, b, :] = x[c, h, w, :]", "out[i, j, c, a, b, :] = x[c, h, W - 1 - w, :]"),
    # ---------------------------------------------------------------- BatchNorm
    ("minigan/nn/batchnorm.py", "plain", "mean for sum",
     "self.weight.grad += (dy * x_hat).sum(axis=axes)", "self.weight.grad += (dy * x_hat).mean(axis=axes)"),
    ("minigan/nn/batchnorm.py", "plain", "flip sign",
     "self.bias.grad += dy.sum(axis=axes)", "self.bias.grad -= dy.sum(axis=axes)"),
    ("minigan/nn/batchnorm.py", "plain", "forgotten γ",
     "dx_hat = dy * self.weight.data.reshape(c)", "dx_hat = dy"),
    ("minigan/nn/batchnorm.py", "plain", "flip sign",
     "- x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std.reshape(c)",
     "+ x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std.reshape(c)"),
    ("minigan/nn/batchnorm.py", "plain", "wrong axis",
     "return (dx_hat - dx_hat.mean(axis=axes, keepdims=True)",
     "return (dx_hat - dx_hat.mean(axis=0, keepdims=True)"),
    ("minigan/nn/batchnorm.py", "plain", "scale 1.01",
     "return dx_hat * inv_std.reshape(c)", "return 1.01 * dx_hat * inv_std.reshape(c)"),
    ("minigan/nn/batchnorm.py", "plain", "drop a factor",
     "self.running_var += (momentum * m / (m - 1)) * var", "self.running_var += momentum * var"),
    ("minigan/kernels/cpu.py", "fast", "forgotten γ",
     "    g = gamma[c]\n    m1 = g * sdy / M", "    g = 1.0\n    m1 = g * sdy / M"),
    ("minigan/kernels/cpu.py", "fast", "flip sign",
     "dx[c, k] = (dy[c, k] * g - m1 - x_hat[c, k] * m2) * scale", "dx[c, k] = (dy[c, k] * g - m1 + x_hat[c, k] * m2) * scale"),
    ("minigan/kernels/cpu.py", "fast", "mean for sum",
     "    dgamma[c] += sdyx\n", "    dgamma[c] += sdyx / M\n"),
    ("minigan/kernels/cpu.py", "fast", "drop a factor",
     "    var_ = ss / M\n", "    var_ = ss / (M - 1)\n"),
    # ---------------------------------------------------------------- LayerNorm
    ("minigan/nn/layernorm.py", "plain", "mean for sum",
     "self.weight.grad += (grad_output * x_hat).sum(axis=batch_axes)", "self.weight.grad += (grad_output * x_hat).mean(axis=batch_axes)"),
    ("minigan/nn/layernorm.py", "plain", "flip sign",
     "self.bias.grad += grad_output.sum(axis=batch_axes)", "self.bias.grad -= grad_output.sum(axis=batch_axes)"),
    ("minigan/nn/layernorm.py", "plain", "forgotten γ",
     "dx_hat = grad_output * self.weight.data", "dx_hat = grad_output"),
    ("minigan/nn/layernorm.py", "plain", "flip sign",
     "- x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std",
     "+ x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std"),
    # ---------------------------------------------------------------- activations
    ("minigan/nn/activation.py", "plain", "flip sign",
     "return xp.where(x > 0, dy, 0).astype(dy.dtype, copy=False)", "return xp.where(x < 0, dy, 0).astype(dy.dtype, copy=False)"),
    ("minigan/nn/activation.py", "plain", "drop a factor",
     "return xp.where(x > 0, dy, dy * self.negative_slope)", "return xp.where(x > 0, dy, dy)"),
    ("minigan/nn/activation.py", "plain", "drop a factor",
     "return dy * (1 - y * y)", "return dy * (1 - y)"),
    ("minigan/nn/activation.py", "plain", "flip sign",
     "return dy * y * (1 - y)", "return dy * y * (1 + y)"),
    ("minigan/kernels/cpu.py", "fast", "drop a factor",
     "out[i] = dy[i] if x[i] > 0 else dy[i] * slope", "out[i] = dy[i] if x[i] > 0 else dy[i]"),
    ("minigan/kernels/cpu.py", "fast", "drop a factor",
     "out[k] = dy[k] * slope if x[k] <= 0 else dy[k]", "out[k] = dy[k] if x[k] <= 0 else dy[k]"),
    ("minigan/kernels/cpu.py", "fast", "flip sign",
     "out[k] = dy[k] * slope if x[k] <= 0 else dy[k]", "out[k] = dy[k] * slope if x[k] >= 0 else dy[k]"),
    # ---------------------------------------------------------------- Dropout
    ("minigan/nn/dropout.py", "plain", "drop a factor",
     "return dy * (keep * dy.dtype.type(inverse_keep_probability(p)))", "return dy * keep"),
    ("minigan/nn/dropout.py", "plain", "scale 1.01",
     "return 0.0 if p >= 1.0 else 1.0 / (1.0 - p)", "return 0.0 if p >= 1.0 else 1.01 / (1.0 - p)"),
    ("minigan/nn/dropout.py", "plain", "flip sign",
     "np.greater_equal(w, threshold, out=blocks[start:start + len(counters), i])",
     "np.less(w, threshold, out=blocks[start:start + len(counters), i])"),
    ("minigan/kernels/cpu.py", "fast", "drop a factor",
     "out[i] = dy[i] * scale if keep[i] else 0", "out[i] = dy[i] if keep[i] else 0"),
    # ---------------------------------------------------------------- losses
    ("minigan/nn/loss.py", "plain", "flip sign",
     "return sigmoid(x) - t", "return t - sigmoid(x)"),
    ("minigan/nn/loss.py", "plain", "mean for sum",
     "    def _mean_grad(self, xp, x, t):\n        \"\"\"∂ mean(ℓ) / ∂x = ℓ'(x, t) / n, in x's dtype\"\"\"\n        return (self._grad(xp, x, t) / x.size)",
     "    def _mean_grad(self, xp, x, t):\n        \"\"\"∂ mean(ℓ) / ∂x = ℓ'(x, t) / n, in x's dtype\"\"\"\n        return (self._grad(xp, x, t) / x.shape[0])"),
    ("minigan/nn/loss.py", "plain", "flip sign",
     "return (p - t) / xp.maximum(p * (1 - p), 1e-12)", "return (p - t) / xp.maximum(p * (1 + p), 1e-12)"),
    ("minigan/nn/loss.py", "plain", "drop a factor",
     "return 2 * (x - t)", "return (x - t)"),
    ("minigan/nn/hinge.py", "plain", "flip sign",
     "return xp.where(s * x < 1, -s, 0).astype(x.dtype)", "return xp.where(s * x < 1, s, 0).astype(x.dtype)"),
    ("minigan/nn/hinge.py", "plain", "scale 1.01",
     "return -xp.ones_like(x)", "return -1.01 * xp.ones_like(x)"),
    ("minigan/nn/cross_entropy.py", "plain", "mean for sum",
     "        grad /= n\n", "\n"),
    ("minigan/nn/cross_entropy.py", "plain", "flip sign",
     "grad[xp.arange(n), target] -= 1", "grad[xp.arange(n), target] += 1"),
    # ---------------------------------------------------------------- SpectralNorm
    ("minigan/nn/spectral_norm.py", "plain", "drop a factor",
     "dW = (G - (G * W_sn).sum() * xp.outer(u, v)) / sigma", "dW = G / sigma"),
    ("minigan/nn/spectral_norm.py", "plain", "flip sign",
     "dW = (G - (G * W_sn).sum() * xp.outer(u, v)) / sigma", "dW = (G + (G * W_sn).sum() * xp.outer(u, v)) / sigma"),
    ("minigan/nn/spectral_norm.py", "plain", "transpose",
     "dW = (G - (G * W_sn).sum() * xp.outer(u, v)) / sigma", "dW = (G - (G * W_sn).sum() * xp.outer(u, v)[::-1]) / sigma"),
    # ---------------------------------------------------------------- pooling
    ("minigan/nn/pooling.py", "plain", "flip sign",
     "dcolumns = chosen * dy[:, None]", "dcolumns = -chosen * dy[:, None]"),
    ("minigan/nn/pooling.py", "plain", "drop a factor",
     "share = batch_last(grad_output) / divisor", "share = batch_last(grad_output)"),
    # ---------------------------------------------------------------- Adam
    ("minigan/optim/adam.py", "plain", "drop a factor",
     "m += (1 - beta1) * g", "m += g"),
    ("minigan/optim/adam.py", "plain", "drop a factor",
     "v += (1 - beta2) * (g * g)", "v += (1 - beta2) * g"),
    ("minigan/optim/adam.py", "plain", "drop a factor",
     "param -= step_size * (m / (xp.sqrt(v) / bias_correction2_sqrt + eps))", "param -= step_size * (m / (xp.sqrt(v) + eps))"),
    ("minigan/optim/adam.py", "plain", "flip sign",
     "g = grad + weight_decay * param if weight_decay else grad", "g = grad - weight_decay * param if weight_decay else grad"),
    ("minigan/optim/adam.py", "plain", "drop a factor",
     "lr / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t)", "lr, math.sqrt(1 - beta2 ** t)"),
    ("minigan/kernels/cpu.py", "fast", "drop a factor",
     "param[i] = param[i] - step_size * (m / (np.sqrt(v) / bias_correction2_sqrt + eps))",
     "param[i] = param[i] - step_size * (m / (np.sqrt(v) + eps))"),
    ("minigan/kernels/cpu.py", "fast", "flip sign",
     "        g = g + weight_decay * param[i]\n", "        g = g - weight_decay * param[i]\n"),
    ("minigan/kernels/cpu.py", "fast", "scale 1.01",
     "m = exp_avg[i] * beta1 + (1 - beta1) * g", "m = exp_avg[i] * beta1 + 1.01 * (1 - beta1) * g"),
    # ---------------------------------------------------------------- Winograd (4×4 stride 2)
    ("minigan/kernels/winograd_cpu.py", "fast", "flip sign",
     "Vc[2, j + n] = e02 - e01", "Vc[2, j + n] = e02 + e01"),
    ("minigan/kernels/winograd_cpu.py", "fast", "padding left out",
     "xp[1:H + 1, 1:W + 1] = x[c]", "xp[0:H, 0:W] = x[c]"),
    ("minigan/kernels/winograd_cpu.py", "fast", "flip sign",
     "acc[h0 + 2, w0 + 2, n] += m1 - m0 - m2", "acc[h0 + 2, w0 + 2, n] += m1 - m0 + m2"),
    ("minigan/kernels/winograd_cpu.py", "fast", "padding left out",
     "dx[c] = acc[1:H + 1, 1:W + 1]", "dx[c] = acc[0:H, 0:W]"),
    ("minigan/kernels/winograd_cpu.py", "fast", "flip sign",
     "y[o, 2 * tu + 1, 2 * tv + 1, n] = g1 + g2", "y[o, 2 * tu + 1, 2 * tv + 1, n] = g1 - g2"),
    ("minigan/kernels/winograd_cpu.py", "fast", "flip sign",
     "Eo[4, j + n] = s0 + s1", "Eo[4, j + n] = s0 - s1"),
    ("minigan/kernels/winograd_cpu.py", "fast", "flip sign",
     "Uo[4, j] = s0 + s1", "Uo[4, j] = s0 - s1"),
    ("minigan/kernels/winograd_cpu.py", "fast", "assign for add",
     "dw[o, c, 2 + a, 2 + b] += r11 + r12", "dw[o, c, 2 + a, 2 + b] = r11 + r12"),
    ("minigan/kernels/winograd.py", "fast", "transpose",
     "np.matmul(E, V.transpose(0, 2, 1), out=dU)", "np.matmul(E[::-1], V.transpose(0, 2, 1), out=dU)"),
    ("minigan/kernels/winograd.py", "fast", "transpose",
     "np.matmul(U.transpose(0, 2, 1), E, out=dV)", "np.matmul(U[::-1].transpose(0, 2, 1), E, out=dV)"),
    ("minigan/kernels/conv.py", "fast", "flip sign",
     "        layer.bias.grad += dy_t.sum(axis=(1, 2, 3))", "        layer.bias.grad -= dy_t.sum(axis=(1, 2, 3))"),
    # ---------------------------------------------------------------- SGD
    ("minigan/optim/sgd.py", "plain", "flip sign",
     "p.data -= lr * g", "p.data += lr * g"),
    ("minigan/optim/sgd.py", "plain", "flip sign",
     "g = g + wd * p.data", "g = g - wd * p.data"),
    ("minigan/optim/sgd.py", "plain", "drop a factor",
     "buf *= mu\n", "buf *= 1\n"),
    ("minigan/optim/sgd.py", "plain", "drop a factor",
     "g = g + mu * buf if group[\"nesterov\"] else buf", "g = g + buf if group[\"nesterov\"] else buf"),
]


def _copy_tree(dest):
    """The package, the tests, the docs and the config, with numba's on-disk cache (mtimes
    kept, so unmutated kernels load without compiling)."""
    for name in ("minigan", "tests", "docs"):
        shutil.copytree(os.path.join(ROOT, name), os.path.join(dest, name), symlinks=True,
                        ignore=shutil.ignore_patterns("*.npz.tmp*", ".pytest_cache"))
    for name in ("setup.cfg", "pyproject.toml"):
        shutil.copy2(os.path.join(ROOT, name), dest)


def _check(mutations):
    """Each mutation's text must occur exactly once in its file."""
    for file, _, _, find, _ in mutations:
        with open(os.path.join(ROOT, file), encoding="utf-8") as f:
            count = f.read().count(find)
        if count != 1:
            raise SystemExit(f"mutate.py: {file}: the text {find!r} occurs {count} times, expected once")


def _run_one(args):
    index, (file, path, kind, find, replace), workdir, timeout = args
    target = os.path.join(workdir, file)
    with open(target, encoding="utf-8") as f:
        original = f.read()
    stat = os.stat(target)
    env = dict(os.environ, PYTHONPATH=workdir, PYTHONDONTWRITEBYTECODE="1")
    env.pop("MINIGAN_KERNELS", None)
    if "@njit" in original:                             # recompiled; keep the shared cache clean
        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-mutant-")
    start = time.time()
    try:
        with open(target, "w", encoding="utf-8") as f:
            f.write(original.replace(find, replace))
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                               *ENGINE_TESTS], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=timeout)
        output, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired:
        output, code = "timed out", -1
    finally:
        with open(target, "w", encoding="utf-8") as f:
            f.write(original)
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        if "NUMBA_CACHE_DIR" in env:
            shutil.rmtree(env["NUMBA_CACHE_DIR"], ignore_errors=True)
    failed = re.search(r"^FAILED (\S+)", output, re.M) or re.search(r"^ERROR (\S+)", output, re.M)
    if code == 0:
        verdict, by = "SURVIVED", ""
    elif failed:
        verdict, by = "killed", failed.group(1)
    else:
        verdict, by = "killed", output.strip().splitlines()[-1][:120] if output.strip() else f"exit {code}"
    return index, verdict, by, time.time() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run the mutations whose file or kind contains this text")
    parser.add_argument("--jobs", type=int, default=2, help="mutations run at a time (default 2)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per mutation (default 900)")
    parser.add_argument("--report", default=REPORT, help="where the report goes (default %(default)s)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.timeout < 1:
        parser.error("--jobs and --timeout must be at least 1")
    chosen = [(i, m) for i, m in enumerate(MUTATIONS)
              if not args.only or args.only in m[0] or args.only in m[2]]
    _check([m for _, m in chosen])
    if args.list:
        for i, (file, path, kind, find, replace) in chosen:
            print(f"{i:3d} {path:5s} {file}: {kind}")
        return 0
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="minigan-mutants-") as tmp:
        workdirs = []
        for w in range(args.jobs):
            workdirs.append(os.path.join(tmp, f"w{w}"))
            _copy_tree(workdirs[-1])
        # warm numba's cache in each copy once, so a mutant pays only for what it changed
        for w in workdirs:
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                            "tests/test_kernels.py", "tests/test_conv_taps.py", "tests/test_dropout_mask.py"],
                           cwd=w, env=dict(os.environ, PYTHONPATH=w), capture_output=True)
        results = {}
        pool = concurrent.futures.ThreadPoolExecutor(args.jobs)
        free = list(workdirs)
        pending = {}
        queue = list(chosen)
        while queue or pending:
            while queue and free:
                index, m = queue.pop(0)
                w = free.pop()
                pending[pool.submit(_run_one, (index, m, w, args.timeout))] = w
            done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                free.append(pending.pop(fut))
                index, verdict, by, seconds = fut.result()
                results[index] = (verdict, by, seconds)
                file, path, kind = MUTATIONS[index][:3]
                print(f"{verdict:8s} {seconds:6.1f}s {path:5s} {file}: {kind} — {by}", flush=True)
    elapsed = time.time() - start
    survivors = [i for i, r in results.items() if r[0] == "SURVIVED"]
    _write_report(args.report, chosen, results, elapsed, args.jobs)
    print(f"{len(results)} mutations, {len(results) - len(survivors)} killed, {len(survivors)} survived "
          f"({elapsed / 60:.1f} min); report: {os.path.relpath(args.report, ROOT)}")
    return 1 if survivors else 0


def _write_report(path, chosen, results, elapsed, jobs):
    per_file = {}
    for i, m in chosen:
        per_file.setdefault(m[0], []).append(i)
    survivors = sum(r[0] == "SURVIVED" for r in results.values())
    lines = ["# Mutation run", "",
             f"`python tests/mutate.py` — {len(results)} mutations, {len(results) - survivors} killed, "
             f"**{survivors} survived**; {elapsed / 60:.1f} min with {jobs} at a time "
             f"({time.strftime('%Y-%m-%d')}).", "",
             "Each row: one mutation applied alone, and the first test that failed on it "
             "(`pytest -q -x` over the engine's tests, see tests/mutate.py).", "",
             "| file | path | mutations |", "|---|---|---|"]
    for file, indices in per_file.items():
        lines.append(f"| {file} | {MUTATIONS[indices[0]][1]} | {len(indices)} |")
    lines += ["", "| # | file | path | mutation | replaced by | result | first failing test | s |",
              "|---|---|---|---|---|---|---|---|"]
    for i, (file, where, kind, find, replace) in chosen:
        verdict, by, seconds = results.get(i, ("not run", "", 0.0))
        short = lambda s: "`" + " ".join(s.split())[:70].replace("|", "\\|") + "`"   # noqa: E731
        lines.append(f"| {i} | {file} | {where} | {kind}: {short(find)} | {short(replace)} | {verdict} | "
                     f"{by.replace('|', '/')} | {seconds:.0f} |")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
