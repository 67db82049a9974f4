"""The layer exercises: Linear, LeakyReLU and Tanh, Conv2d and col2im, ConvTranspose2d,
BatchNorm, Dropout — each against minigan's own layer and finite differences."""
import numpy as np

from minigan import nn

from ..grading import Diagnosis, compare, directional_fd
from .common import CASES, check, fn, grade_layer, randn, run_cases, summary


# ----------------------------------------------------------------------------- 2. Linear
@check("linear")
def check_linear(learner, mod, report, rng):
    fwd, bwd = fn(mod, "linear_forward"), fn(mod, "linear_backward")
    shapes = [(4, 3, 5)] + [tuple(rng.integers(1, 7, 3)) for _ in range(CASES - 1)]

    def case(n, i, o):
        inputs = {"x": randn(rng, n, i), "W": randn(rng, o, i), "b": randn(rng, o)}

        def reference(inp, dy):
            lin = nn.Linear(i, o).double()
            lin.weight.data[...], lin.bias.data[...] = inp["W"], inp["b"]
            y = lin(inp["x"])
            if dy is None:
                return y, {}
            dx = lin.backward(dy)
            return y, {"x": dx, "W": lin.weight.grad, "b": lin.bias.grad}
        return lambda: grade_layer(learner, report, rng, inputs=inputs,
                                   forward=lambda p: fwd(p["x"], p["W"], p["b"]), backward=bwd,
                                   reference=reference, names=("x", "W", "b"), batch=n)
    run_cases(report, [case(*s) for s in shapes], [f"x ({n}, {i}), W ({o}, {i})" for n, i, o in shapes])
    return summary(("x", "W", "b"), "nn.Linear", len(shapes))


# ----------------------------------------------------------------------------- 3. activations
def off_kink(rng, *shape):
    x = rng.standard_normal(shape)
    return x + np.where(x >= 0, 0.05, -0.05)


@check("activations")
def check_activations(learner, mod, report, rng):
    lf, lb = fn(mod, "leaky_relu_forward"), fn(mod, "leaky_relu_backward")
    tf, tb = fn(mod, "tanh_forward"), fn(mod, "tanh_backward")
    cases, describe = [], []
    for _ in range(CASES // 2):
        shape = tuple(rng.integers(1, 6, rng.integers(1, 4)))
        slope = float(rng.uniform(0.05, 0.4))
        x = off_kink(rng, *shape)

        def leaky_ref(inp, dy, slope=slope):
            layer = nn.LeakyReLU(slope)
            y = layer(inp["x"])
            return y, ({} if dy is None else {"x": layer.backward(dy)})

        def leaky_wrong(g, dy, x=x, slope=slope):
            return {"x": [(Diagnosis("relu", "the negative side's slope is missing: for x ≤ 0, "
                                     "f′(x) = a, not 0"), np.where(x > 0, dy, 0.0)),
                          (Diagnosis("no_upstream", "dx is f′(x) alone: multiply by dy (the chain rule)"),
                           np.where(x > 0, 1.0, slope))]}

        def tanh_ref(inp, dy):
            layer = nn.Tanh()
            y = layer(inp["x"])
            return y, ({} if dy is None else {"x": layer.backward(dy)})

        def tanh_wrong(g, dy, x=x):
            return {"x": [(Diagnosis("input_not_output", "1 − x² uses the input: Tanh's "
                                     "derivative is 1 − tanh(x)² = 1 − y²"), dy * (1 - x ** 2)),
                          (Diagnosis("no_upstream", "dx is f′(x) alone: multiply by dy"),
                           1 - np.tanh(x) ** 2)]}
        cases.append(lambda x=x, slope=slope, r=leaky_ref, w=leaky_wrong: grade_layer(
            learner, report, rng, inputs={"x": x}, forward=lambda p: lf(p["x"], slope),
            backward=lb, reference=r, names=("x",), candidates=w))
        describe.append(f"LeakyReLU({slope:.3g}) on x {shape}")
        cases.append(lambda x=x, w=tanh_wrong: grade_layer(
            learner, report, rng, inputs={"x": x}, forward=lambda p: tf(p["x"]), backward=tb,
            reference=tanh_ref, names=("x",), candidates=w))
        describe.append(f"Tanh on x {shape}")
    run_cases(report, cases, describe)
    return summary(("x",), "nn.LeakyReLU and nn.Tanh", len(cases))


# ----------------------------------------------------------------------------- 6. conv2d, col2im
def col2im_reference(cols, x_shape, kh, kw, stride, padding, mistake=None):
    """The adjoint of the exercise's im2col (``mistake``: "stride" ignores the stride,
    "padding" cuts the padded result at the wrong place — the two usual col2im bugs)."""
    N, C, H, W = x_shape
    (sh, sw), (ph, pw) = stride, padding
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    c = cols.reshape(C, kh, kw, N, Ho, Wo)
    if mistake == "stride":
        sh = sw = 1
    x_pad = np.zeros((N, C, H + 2 * ph + kh + sh * Ho, W + 2 * pw + kw + sw * Wo))
    for i in range(kh):
        for j in range(kw):
            x_pad[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += c[:, i, j].transpose(1, 0, 2, 3)
    if mistake == "padding":
        return x_pad[:, :, :H, :W]
    if mistake == "uncropped":
        return x_pad[:, :, :H + 2 * ph, :W + 2 * pw]
    return x_pad[:, :, ph:ph + H, pw:pw + W]


COL2IM_STRIDE = Diagnosis("col2im_stride", "col2im leaves out the stride: im2col reads window "
                          "(oh, ow) at rows oh·sh + i, so col2im must add it back there "
                          "(slice i:i + sh·Ho:sh, not i:i + Ho)")
COL2IM_PADDING = Diagnosis("col2im_padding", "col2im leaves out the padding: add into the PADDED "
                           "array (H + 2·ph, W + 2·pw), then return it without its border, "
                           "x_pad[:, :, ph:ph + H, pw:pw + W]")


def conv_geometry(rng, first):
    if first:
        return 2, 3, 4, 7, 6, (3, 3), (2, 2), (1, 1)
    while True:
        n, c, co = (int(v) for v in rng.integers(1, 4, 3))
        h, w = (int(v) for v in rng.integers(3, 9, 2))
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(rng.integers(0, kk)) for kk in k)      # padding < kernel
        if h + 2 * p[0] >= k[0] and w + 2 * p[1] >= k[1]:
            return n, c, co, h, w, k, s, p


def col2im_candidates(cols, x_shape, k, s, p):
    out = []
    if s != (1, 1):
        out.append((COL2IM_STRIDE, col2im_reference(cols, x_shape, *k, s, p, "stride")))
    if p != (0, 0):
        out.append((COL2IM_PADDING, col2im_reference(cols, x_shape, *k, s, p, "padding")))
        out.append((COL2IM_PADDING, col2im_reference(cols, x_shape, *k, s, p, "uncropped")))
    return out


@check("conv2d")
def check_conv2d(learner, mod, report, rng):
    im2col, col2im = fn(mod, "im2col"), fn(mod, "col2im")
    fwd, bwd = fn(mod, "conv2d_forward"), fn(mod, "conv2d_backward")
    geos = [conv_geometry(rng, i == 0) for i in range(CASES)]
    describe = [f"x ({n}, {c}, {h}, {w}), kernel {k}, stride {s}, padding {p}"
                for n, c, co, h, w, k, s, p in geos]

    def adjoint(n, c, co, h, w, k, s, p):              # col2im on its own first
        x_shape = (n, c, h, w)
        cols_shape = learner.call(im2col, np.zeros(x_shape), *k, s, p).shape
        cols = rng.standard_normal(cols_shape)
        got = learner.call(col2im, cols, x_shape, *k, s, p)
        return compare(report, "col2im(cols)", got, col2im_reference(cols, x_shape, *k, s, p),
                       candidates=col2im_candidates(cols, x_shape, k, s, p), against="im2col's adjoint")
    if not run_cases(report, [lambda g=g: adjoint(*g) for g in geos], describe):
        return ""
    report.passed_cases = 0

    def case(n, c, co, h, w, k, s, p):
        inputs = {"x": randn(rng, n, c, h, w), "W": randn(rng, co, c, *k), "b": randn(rng, co)}

        def reference(inp, dy):
            conv = nn.Conv2d(c, co, k, stride=s, padding=p).double()
            conv.weight.data[...], conv.bias.data[...] = inp["W"], inp["b"]
            y = conv(inp["x"])
            if dy is None:
                return y, {}
            return y, {"x": conv.backward(dy), "W": conv.weight.grad, "b": conv.bias.grad}

        def wrong(g, dy):
            # dx = col2im(dcols): the same col2im mistakes, seen from the layer
            dcols = inputs["W"].reshape(co, -1).T @ dy.transpose(1, 0, 2, 3).reshape(co, -1)
            return {"x": col2im_candidates(dcols, (n, c, h, w), k, s, p)}
        return grade_layer(learner, report, rng, inputs=inputs,
                           forward=lambda q: fwd(q["x"], q["W"], q["b"], s, p), backward=bwd,
                           reference=reference, names=("x", "W", "b"), candidates=wrong)
    run_cases(report, [lambda g=g: case(*g) for g in geos], describe)
    return ("col2im is im2col's adjoint, and " + summary(("x", "W", "b"), "nn.Conv2d", len(geos))
            + " (strides, paddings, rectangular kernels)")


# ----------------------------------------------------------------------------- 7. ConvTranspose2d
@check("conv_transpose2d")
def check_conv_transpose2d(learner, mod, report, rng):
    fwd, bwd = fn(mod, "conv_transpose2d_forward"), fn(mod, "conv_transpose2d_backward")
    geos = []
    for i in range(CASES):
        n, cin, cout, h, w, k, s, p = conv_geometry(rng, i == 0)
        op = tuple(int(rng.integers(0, ss)) for ss in s) if i else (1, 1)
        h, w = max(h // 2, 1), max(w // 2, 1)
        if (h - 1) * s[0] - 2 * p[0] + k[0] + op[0] < 1 or (w - 1) * s[1] - 2 * p[1] + k[1] + op[1] < 1:
            p = (0, 0)
        geos.append((n, cin, cout, h, w, k, s, p, op))

    def case(n, cin, cout, h, w, k, s, p, op):
        inputs = {"x": randn(rng, n, cin, h, w), "W": randn(rng, cin, cout, *k), "b": randn(rng, cout)}

        def reference(inp, dy):
            convT = nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p, output_padding=op).double()
            convT.weight.data[...], convT.bias.data[...] = inp["W"], inp["b"]
            y = convT(inp["x"])
            if dy is None:
                return y, {}
            return y, {"x": convT.backward(dy), "W": convT.weight.grad, "b": convT.bias.grad}
        return grade_layer(learner, report, rng, inputs=inputs,
                           forward=lambda q: fwd(q["x"], q["W"], q["b"], s, p, op), backward=bwd,
                           reference=reference, names=("x", "W", "b"), forward_is_lesson=True)
    run_cases(report, [lambda g=g: case(*g) for g in geos],
              [f"x ({n}, {ci}, {h}, {w}), W ({ci}, {co}, {k[0]}, {k[1]}), stride {s}, padding {p}, "
               f"output_padding {op}" for n, ci, co, h, w, k, s, p, op in geos])
    return ("the forward, dx, dW and db agree with minigan's nn.ConvTranspose2d and finite "
            f"differences on {len(geos)} random cases")


# ----------------------------------------------------------------------------- 8. BatchNorm
@check("batchnorm")
def check_batchnorm(learner, mod, report, rng):
    fwd = fn(mod, "batchnorm_forward")
    shapes = [(6, 3)] + [(int(rng.integers(3, 13)), int(rng.integers(1, 5))) for _ in range(CASES - 1)]
    describe = [f"x ({m}, {c}), γ and β random" for m, c in shapes]

    def case(m, c, bwd):
        inputs = {"x": randn(rng, m, c) * 2 + 1, "gamma": rng.uniform(0.5, 2.0, c) * rng.choice([-1, 1], c),
                  "beta": randn(rng, c)}

        def reference(inp, dy):
            bn = nn.BatchNorm1d(c).double()
            bn.weight.data[...], bn.bias.data[...] = inp["gamma"], inp["beta"]
            y = bn(inp["x"])
            if dy is None:
                return y, {}
            return y, {"x": bn.backward(dy), "gamma": bn.weight.grad, "beta": bn.bias.grad}

        def wrong(g, dy):
            gamma, x = inputs["gamma"], inputs["x"]
            s = 1 / np.sqrt(x.var(axis=0) + 1e-5)
            return {"x": [(Diagnosis("gamma", "γ is forgotten: y = γ·x̂ + β, so dx̂ = dy·γ"), g["x"] / gamma),
                          (Diagnosis("constant_stats", "μ and v are treated as constants: they depend "
                                     "on every x of the channel, which adds the two mean terms"),
                           dy * gamma * s)]}
        return grade_layer(learner, report, rng, inputs=inputs,
                           forward=lambda q: fwd(q["x"], q["gamma"], q["beta"]), backward=bwd,
                           reference=reference, names=("x", "gamma", "beta"), batch=m,
                           candidates=wrong)
    for fname in ("batchnorm_backward_steps", "batchnorm_backward"):
        bwd = fn(mod, fname)
        report.name = f"batchnorm ({fname})"
        if not run_cases(report, [lambda s=s: case(*s, bwd) for s in shapes], describe):
            return ""
    report.name = "batchnorm"
    return ("node by node and closed form: " + summary(("x", "gamma", "beta"), "nn.BatchNorm1d",
                                                        len(shapes)) + " (random γ, β and dy)")


# ----------------------------------------------------------------------------- 9. Dropout
@check("dropout")
def check_dropout(learner, mod, report, rng):
    fwd, bwd = fn(mod, "dropout_forward"), fn(mod, "dropout_backward")
    cases, describe = [], []
    for _ in range(CASES):
        shape = (int(rng.integers(2, 8)), int(rng.integers(3, 12)))
        p = float(rng.uniform(0.1, 0.7))
        x, seed = randn(rng, *shape), int(rng.integers(2 ** 31))

        def case(x=x, p=p, seed=seed):
            drop = nn.Dropout(p)
            drop.train()
            dy = rng.standard_normal(x.shape)
            drop(x)
            want = drop.backward(dy)
            keep = drop.mask() > 0                     # minigan's mask, given to your backward
            got = learner.call(bwd, dy, (keep, p))
            wrong = [(Diagnosis("dropout_scale", "the 1/(1 − p) scale is missing: the forward "
                                "multiplies by it, so dx does too"), dy * keep),
                     (Diagnosis("dropout_mask", "the mask is inverted: the kept elements pass "
                                "their gradient, the dropped ones get 0"), dy * ~keep / (1 - p))]
            ok = compare(report, "dx", got, want, candidates=wrong)

            def loss(inp):                             # your forward, the same mask each time
                y, _ = learner.call(fwd, inp["x"], p, np.random.default_rng(seed))
                return float((np.asarray(y) * dy).sum())
            _, cache = learner.call(fwd, x, p, np.random.default_rng(seed))
            directional_fd(report, "dx", loss, {"x": x}, "x", learner.call(bwd, dy, cache), rng)
            return ok and report.ok
        cases.append(case)
        describe.append(f"x {shape}, p = {p:.2f}")
    run_cases(report, cases, describe)
    return summary(("x",), "nn.Dropout (with its own mask)", len(cases))
