"""python -m minigan.learn: every reference solution passes its check, each usual mistake gets
its diagnosis, a crash shows the learner's own traceback, `start` never overwrites an edit.

The reference solutions live in tests/learn_solutions/ (never in the exercise files)."""
import os
import shutil
import subprocess
import sys

import pytest

from minigan.learn import track
from minigan.learn.checks import run_check
from minigan.learn.grading import Learner

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(HERE, "learn_solutions")
ROOT = os.path.dirname(HERE)


def solved(folder):
    """A learner's folder with every reference solution in it."""
    track.start(str(folder))
    for ex in track.TRACK:
        shutil.copy(os.path.join(SOLUTIONS, ex.filename), folder / ex.filename)
    return folder


def mutate(folder, name, old, new):
    path = folder / (name + ".py")
    text = path.read_text()
    assert old in text, (name, old)
    path.write_text(text.replace(old, new))


def cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "minigan.learn", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


@pytest.mark.parametrize("name", [ex.name for ex in track.TRACK])
def test_reference_solution_passes(tmp_path, name):
    report, summary = run_check(Learner(solved(tmp_path)), name)
    assert report.ok, "\n".join(report.lines(summary))
    assert len(report.lines(summary)) == 1 and "passed" in report.lines(summary)[0]


# (exercise, text in the reference solution, the seeded mistake, the diagnosis it must get)
MISTAKES = [
    ("linear", "dy.T @ x", "x.T @ dy", "transposed"),
    ("linear", "dy.sum(axis=0)", "dy", "batch_sum"),
    ("linear", "return dy @ W,", "return -(dy @ W),", "sign"),
    ("linear", "dy.sum(axis=0)", "dy.sum()", "sum_axis"),
    ("linear", "dy.T @ x", "dy.T @ x / len(x)", "mean_vs_sum"),
    ("bce_logits", "- t) / x.size", "- t)", "mean_vs_sum"),
    ("softmax_ce", "return dx / len(t)", "return dx", "mean_vs_sum"),
    ("batchnorm", "dx_hat = dy * gamma\n    dx = s", "dx_hat = dy\n    dx = s", "gamma"),
    ("batchnorm", "dx = s * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))",
     "dx = s * dx_hat", "constant_stats"),
    ("batchnorm", "dgamma, dbeta = (dy * x_hat).sum(axis=0), dy.sum(axis=0)",
     "dgamma, dbeta = dy * x_hat, dy.sum(axis=0)", "batch_sum"),
    ("conv2d", "x_pad[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] +=", "x_pad[:, :, i:i + Ho, j:j + Wo] +=",
     "col2im_stride"),
    ("conv2d", "return x_pad[:, :, ph:ph + H, pw:pw + W]", "return x_pad[:, :, :H, :W]", "col2im_padding"),
    ("conv2d", "return x_pad[:, :, ph:ph + H, pw:pw + W]", "return x_pad", "col2im_padding"),
    ("gan_step", "D.backward(bce.backward(), need_input_grad=False)    # detached: G gets nothing",
     "D.backward(bce.backward())", "not_detached"),
    ("gan_step", "loss_fake = bce(out, np.zeros_like(out))", "loss_fake = bce(out, np.ones_like(out))",
     "fake_label"),
    ("gan_step", "loss_g = bce(out, np.ones_like(out))", "loss_g = bce(out, np.zeros_like(out))", "g_target"),
    ("chain_rule", "(1 - out.data ** 2) * out.grad", "(out.data ** 2 - 1) * out.grad", "sign"),
    ("chain_rule", "self.grad += out.data * out.grad", "self.grad += out.data", "upstream"),
    ("chain_rule", "self.grad += other.data * out.grad", "self.grad = other.data * out.grad", "accumulate"),
    ("activations", "np.where(x > 0, dy, negative_slope * dy)", "np.where(x > 0, dy, 0.0)", "relu"),
    ("activations", "return dy * (1 - y ** 2)", "dy *= 1 - y ** 2\n    return dy", "in_place"),
    ("dropout", "return dy * keep / (1 - p)", "return dy * keep", "dropout_scale"),
    ("adam", "m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)", "m_hat, v_hat = m, v",
     "no_bias_correction"),
    ("adam", "(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)", "eps_inside_sqrt"),
    ("adam", "theta -= lr", "theta += lr", "sign"),
    ("adam", "v += (1 - beta2) * g * g", "v += (1 - beta2) * g", "g_not_squared"),
    ("adam", "theta -= lr * m_hat / (np.sqrt(v_hat) + eps)", "return theta - lr * m_hat / (np.sqrt(v_hat) + eps)",
     "not_in_place"),
    ("linear", "return dy @ W,", "return 2 * (dy @ W),", "scale"),
    ("activations", "np.where(x > 0, dy, negative_slope * dy)", "np.where(x > 0, 1.0, negative_slope)",
     "no_upstream"),
    ("activations", "return dy * (1 - y ** 2)", "return dy * (1 - np.arctanh(y) ** 2)", "input_not_output"),
    ("dropout", "return dy * keep / (1 - p)", "return dy * ~keep / (1 - p)", "dropout_mask"),
    ("bce_logits", "loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))",
     "s = 1 / (1 + np.exp(-x))\n    loss = -(t * np.log(s) + (1 - t) * np.log(1 - s))", "overflow"),
    ("gan_step", "    D.requires_grad_(True)\n", "", "d_left_frozen"),
]


@pytest.mark.parametrize("name,old,new,key", MISTAKES, ids=[f"{m[0]}-{m[3]}-{i}" for i, m in enumerate(MISTAKES)])
def test_seeded_mistake_gets_its_diagnosis(tmp_path, name, old, new, key):
    folder = solved(tmp_path)
    mutate(folder, name, old, new)
    report, summary = run_check(Learner(folder), name)
    text = "\n".join(report.lines(summary))
    assert not report.ok, text
    assert report.keys() == [key], text
    assert "diagnosis: " in text


def test_crash_shows_the_learners_traceback_only(tmp_path):
    folder = solved(tmp_path)
    mutate(folder, "linear", "return dy @ W,", "return dy @ W.T,")     # a shape error, in numpy
    report, _ = run_check(Learner(folder), "linear")
    assert not report.ok and report.crash
    assert str(folder / "linear.py") in report.crash and "line" in report.crash
    assert "ValueError" in report.crash and "minigan/learn" not in report.crash


def test_untouched_file_fails_clearly_and_start_keeps_edits(tmp_path):
    folder = tmp_path / "ex"
    r = cli("start", str(folder))
    assert r.returncode == 0 and "wrote" in r.stdout
    r = cli("check", "linear", "--dir", str(folder))
    assert r.returncode == 1
    assert "linear: FAILED — not written yet" in r.stdout and "linear.py, line" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    shutil.copy(os.path.join(SOLUTIONS, "linear.py"), folder / "linear.py")
    (folder / "adam.py").write_text("# my notes\n")
    r = cli("start", str(folder))
    assert r.returncode == 0 and "kept" in r.stdout
    assert (folder / "adam.py").read_text() == "# my notes\n"
    assert (folder / "linear.py").read_text() == open(os.path.join(SOLUTIONS, "linear.py")).read()
    r = cli("check", "linear", "--dir", str(folder))
    assert r.returncode == 0 and r.stdout.startswith("linear: passed") and r.stdout.count("\n") == 1
    r = cli("list", "--dir", str(folder))
    assert r.returncode == 0
    assert "linear" in r.stdout and "passed" in r.stdout.split("linear")[1].split("\n")[0]
    assert "to do" in r.stdout.split("chain_rule")[1].split("\n")[0]


def test_exercise_files_hold_no_solution():
    for ex in track.TRACK:
        text = ex.template()
        assert "NotImplementedError" in text, ex.name
        assert text != open(os.path.join(SOLUTIONS, ex.filename)).read()


def test_help_lists_the_commands():
    r = cli("--help")
    assert r.returncode == 0
    for command in ("list", "start", "check", "train"):
        assert command in r.stdout


def test_your_layers_compute_what_minigans_do(tmp_path):
    """The flagship's G and D with every learner layer swapped in give minigan's outputs and
    gradients (float64, no dropout), so `train` trains the same network."""
    import copy

    import numpy as np

    import minigan as mg
    from minigan import gan
    from minigan.learn.layers import swap_in, your_classes

    learner = Learner(solved(tmp_path))
    modules = {name: learner.load(name) for name in ("linear", "activations", "conv2d",
                                                     "conv_transpose2d", "batchnorm")}
    classes = your_classes(modules)
    mg.seed(3)
    for model, shape in ((gan.dcgan28_generator(), (4, 100)),
                         (gan.dcgan28_discriminator(dropout=0.0), (4, 1, 28, 28))):
        model.double()
        yours = copy.deepcopy(model)
        assert len(swap_in(yours, classes)) >= 5
        x = np.random.default_rng(0).standard_normal(shape)
        y = model(x)
        y_yours = yours(x)
        np.testing.assert_allclose(y_yours, y, rtol=1e-9, atol=1e-12)
        dy = np.random.default_rng(1).standard_normal(y.shape)
        np.testing.assert_allclose(yours.backward(dy), model.backward(dy), rtol=1e-7, atol=1e-12)
        for (name, p), q in zip(model.named_parameters(), yours.parameters()):
            np.testing.assert_allclose(q.grad, p.grad, rtol=1e-7, atol=1e-10, err_msg=name)
        assert yours.state_dict().keys() == model.state_dict().keys()


def test_train_runs_a_few_steps_on_your_layers(tmp_path):
    folder = solved(tmp_path / "ex")
    r = cli("train", "--dir", str(folder), "--max-steps", "2", "--batch-size", "8", "--standing-statistics", "100",
            "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "minigan's: nothing" in r.stdout
    assert "G: your layers at 0 Linear, 1 BatchNorm1d" in r.stdout
    assert "D: your layers at 0 Conv2d" in r.stdout and "step 2/2" in r.stdout
    assert (tmp_path / "run" / "grid.png").stat().st_size > 1000


def test_train_uses_only_what_passed(tmp_path):
    folder = tmp_path / "ex"
    track.start(str(folder))
    shutil.copy(os.path.join(SOLUTIONS, "linear.py"), folder / "linear.py")
    mutate(folder, "activations", 'raise NotImplementedError("write tanh_backward")', "return dy")
    r = cli("train", "--dir", str(folder), "--max-steps", "1", "--batch-size", "4", "--standing-statistics", "0",
            "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "yours:    linear" in r.stdout and "activations" not in r.stdout.split("minigan's")[0]
    assert "G: your layers at 0 Linear\n" in r.stdout


def test_a_syntax_error_points_at_the_learners_line(tmp_path):
    folder = solved(tmp_path)
    (folder / "linear.py").write_text((folder / "linear.py").read_text() + "\ndef broken(:\n")
    r = cli("check", "linear", "--dir", ".", cwd=str(folder))          # run from inside the folder
    assert r.returncode == 1
    assert "linear.py\", line" in r.stdout and "SyntaxError" in r.stdout
    assert "frozen" not in r.stdout and "minigan" not in r.stdout.split("(edit")[0]
