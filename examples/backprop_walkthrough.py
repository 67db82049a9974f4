"""A guided tour of backprop in minigan: one small conv net, layer by layer.

For each layer it prints the forward input -> output shapes, the gradient shapes on the
way back, what the layer keeps from its forward for its backward, and the worst relative
error of its hand-written gradients against finite differences (mg.gradcheck, float64).

    python examples/backprop_walkthrough.py            # runs in a few seconds
Read it next to minigan/nn/linear.py and minigan/nn/conv.py.
"""
import argparse
import copy
import warnings

import numpy as np

import minigan as mg
from minigan import nn
from minigan.apps.options import nonneg_int, positive_int

def kept(layer, x, y):
    """What ``layer``'s backward needs from its forward, as (label, shape) pairs — read off the
    math (and the input and output shapes), not off the layer's private cache."""
    n = x.shape[0]
    if isinstance(layer, nn.Conv2d):
        kh, kw = layer.kernel_size
        cols = (layer.in_channels * kh * kw, y.shape[2] * y.shape[3] * n)
        return [("the input's im2col columns X, for dW = dY·Xᵀ", cols)]
    if isinstance(layer, nn.ConvTranspose2d):
        return [("the input x as (Cin, H·W·N), for dW", (x.shape[1], x.shape[2] * x.shape[3] * n))]
    if isinstance(layer, nn.Linear):
        return [("the input x, for dW = dyᵀ·x", x.shape)]
    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
        m = x.size // x.shape[1]
        return [("the normalised x̂ as (C, M)", (x.shape[1], m)), ("1/√(σ² + ε) per channel", (x.shape[1],))]
    if isinstance(layer, (nn.LeakyReLU, nn.ReLU)):
        return [("the input x (its sign picks the slope)", x.shape)]
    if isinstance(layer, (nn.Tanh, nn.Sigmoid)):
        return [("the output y (f′ is a function of y)", y.shape)]
    if isinstance(layer, nn.Dropout):
        keep = layer.mask()
        if keep is None:
            return [("nothing: identity in eval mode", ())]
        share = float((keep > 0).mean())
        return [(f"the mask of kept elements, bool ({share:.0%} kept at p = {layer.p}; dx = dy·mask/(1 − p))",
                 keep.shape)]
    if isinstance(layer, (nn.Flatten, nn.Reshape)):
        return [("only the input shape", x.shape)]
    return []


def load_digits(n):
    """A few real MNIST digits scaled to [-1, 1], or None when no data is available."""
    try:
        from minigan.data import load_mnist
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            images, labels = load_mnist("train")[:2]
        pick = np.linspace(0, len(images) - 1, n).astype(int)   # spread over the classes
        return (images[pick, None].astype(np.float32) / 127.5 - 1.0), labels[pick]
    except Exception as exc:  # the walkthrough works without data, and says so
        print(f"(no MNIST available: {exc}; using random input instead)")
        return None, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=positive_int, default=8)
    parser.add_argument("--seed", type=nonneg_int, default=0)
    args = parser.parse_args(argv)
    mg.seed(args.seed)

    model = nn.Sequential(
        nn.Conv2d(1, 8, 5, stride=2, padding=2),   # 28x28 -> 14x14
        nn.BatchNorm2d(8),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),  # 14x14 -> 7x7
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 1),
    )
    x, labels = load_digits(args.batch_size)
    if x is None:
        x = np.random.default_rng(args.seed).standard_normal((args.batch_size, 1, 28, 28)).astype(np.float32)
    else:
        print(f"input: {len(x)} real MNIST digits (labels {labels.tolist()}), scaled to [-1, 1]")
    print(model, "\n")

    # Forward, one layer at a time, keeping every layer's input for the tour.
    print("FORWARD  (each layer keeps what its backward will need)")
    inputs, h = [], x
    for i, layer in enumerate(model):
        inputs.append(h)
        out = layer(h)
        print(f"[{i}] {type(layer).__name__:<12} {str(tuple(h.shape)):>16} -> {str(tuple(out.shape)):<16}")
        for label, shape in kept(layer, h, out):
            print(f"      keeps {label}: {tuple(shape)}")
        h = out

    # A loss on the logits, then backward, in reverse.
    loss_fn = nn.BCEWithLogitsLoss()
    loss = loss_fn(h, np.ones_like(h))
    grad = loss_fn.backward()
    print(f"\nloss = BCEWithLogits(logits, 1) = {loss:.4f};  dL/dlogits shape {tuple(grad.shape)}")
    print("\nBACKWARD  (returns dL/dinput; adds dL/dθ into each parameter's .grad)")
    for i in reversed(range(len(model))):
        layer = model[i]
        grad_in = layer.backward(grad)
        params = ", ".join(f"d{n} {tuple(p.grad.shape)}" for n, p in layer.named_parameters()) or "no parameters"
        print(f"[{i}] {type(layer).__name__:<12} dL/dout {str(tuple(grad.shape)):>16} -> dL/din "
              f"{str(tuple(grad_in.shape)):<16} {params}")
        grad = grad_in

    # Each layer's gradients against finite differences, in float64 on a small slice.
    print("\nGRADIENT CHECK  (float64, central differences, worst relative error per tensor)")
    for i, layer in enumerate(model):
        check = copy.deepcopy(layer).double()
        small = inputs[i][:4].astype(np.float64)
        report = mg.gradcheck(check, small, max_elements=60)
        errs = "  ".join(f"{n}={e:.1e}" for n, e in report.errors.items())
        print(f"[{i}] {type(layer).__name__:<12} {'ok ' if report.ok else 'BAD'}  {errs}")


if __name__ == "__main__":
    main()
