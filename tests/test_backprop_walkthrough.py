"""examples/backprop_walkthrough.py runs, labels what each layer keeps correctly, and every
layer's hand-written gradient passes its finite-difference check."""
import importlib.util
import os
import re

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                       "backprop_walkthrough.py")


def test_walkthrough_prints_the_tour_and_every_check_passes(capsys):
    spec = importlib.util.spec_from_file_location("example_backprop_walkthrough", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--batch-size", "4", "--seed", "1"])
    out = capsys.readouterr().out
    checks = re.findall(r"^\[(\d)\] (\w+)\s+(ok |BAD)", out, re.M)
    assert len(checks) == 8 and all(status == "ok " for _, _, status in checks), out
    forward = out.split("FORWARD")[1].split("BACKWARD")[0]
    dropout = forward.split("Dropout")[1].split("\n[")[0]
    assert "mask of kept elements, bool" in dropout and "p = 0.3" in dropout
    assert "uniform" not in out                      # the mask is Philox's, not uniform floats
    assert "im2col columns X, for dW = dY·Xᵀ: (25, 784)" in forward      # 1·5·5 × 14·14·4
    assert "normalised x̂ as (C, M): (8, 784)" in forward
    assert "dweight (16, 8, 3, 3), dbias (16,)" in out
