"""The step and layer benchmarks: every model the examples train, results named after model and
machine, never silently written over another machine's, and options checked in one line."""
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import bench_layers  # noqa: E402
import bench_step  # noqa: E402
from dcgan_models import MODELS  # noqa: E402


def test_every_example_model_is_benchmarked_with_its_default_batches():
    assert {"dcgan28", "dcgan64"} <= set(MODELS)
    assert MODELS["dcgan64"].batches == (16, 32, 64)
    assert MODELS["dcgan28"].batches == (64, 128)
    G, D = MODELS["dcgan64"].minigan()
    x = np.zeros((2, *MODELS["dcgan64"].image_shape), np.float32)
    assert G(np.zeros((2, 100), np.float32)).shape == x.shape and D(x).shape == (2, 1)


@pytest.mark.oracle
@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_pytorch_twin_computes_what_minigan_computes(model):
    torch = pytest.importorskip("torch")
    spec = MODELS[model]
    G, D = spec.minigan()
    tG, tD = spec.torch(G, D)
    D.eval(), tD.eval()                         # Dropout off (dcgan28's D), the same running statistics
    z = np.random.default_rng(0).standard_normal((4, spec.z_dim)).astype(np.float32)
    fake = G(z)
    with torch.no_grad():
        t_fake = tG(torch.from_numpy(z))
        t_logit = tD(t_fake)
    np.testing.assert_allclose(np.asarray(fake), t_fake.numpy(), atol=4e-6)
    np.testing.assert_allclose(np.asarray(D(fake)), t_logit.numpy(), atol=4e-5, rtol=1e-4)


def test_results_are_named_after_kind_model_and_machine(tmp_path):
    path = bench_step.result_path("step", "dcgan64", "AMD EPYC x2", results=str(tmp_path))
    assert os.path.basename(path) == "step_dcgan64_amd-epyc-x2.json"


def _write(path, machine):
    with open(path, "w") as f:
        json.dump({"machine": machine, "rows": []}, f)


def test_a_result_from_another_machine_is_never_replaced_silently(tmp_path):
    committed = tmp_path / "step_dcgan64_amd-epyc-x2.json"
    _write(committed, "AMD EPYC x2 (someone else's)")
    beside = bench_step.result_path("step", "dcgan64", "AMD EPYC x2", results=str(tmp_path))
    assert os.path.basename(beside) == "step_dcgan64_amd-epyc-x2.new.json"
    _write(beside, "AMD EPYC x2 (a third one)")
    assert os.path.basename(bench_step.result_path("step", "dcgan64", "AMD EPYC x2", results=str(tmp_path))) \
        == "step_dcgan64_amd-epyc-x2.new2.json"
    # --save replaces it; the same machine's own earlier result is replaced
    assert bench_step.result_path("step", "dcgan64", "AMD EPYC x2", results=str(tmp_path), save=True) == str(committed)
    _write(committed, "AMD EPYC x2")
    assert bench_step.result_path("step", "dcgan64", "AMD EPYC x2", results=str(tmp_path)) == str(committed)
    committed.write_text("not json")
    assert bench_step.result_path("step", "dcgan64", "AMD EPYC x2", results=str(tmp_path)) != str(committed)


@pytest.mark.parametrize("module", [bench_step, bench_layers])
@pytest.mark.parametrize("argv, message", [
    (["--batch", "0"], "argument --batch: must be a positive integer, got 0"),
    (["--batch", "16", "-3"], "argument --batch: must be a positive integer, got -3"),
    (["--repeats", "0"], "argument --repeats: must be a positive integer, got 0"),
    (["--model", "dcgan99"], "invalid choice: 'dcgan99'"),
    (["--model", "dcgan64", "dcgan64"], "a model named twice"),
    (["--batch", "x"], "argument --batch: expected a positive integer, got 'x'"),
])
def test_bad_options_are_one_line_and_exit_2(module, argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        module.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert message in err and err.count("\n") == 1, err


def test_step_rejects_an_unknown_engine_and_warmup_below_zero(capsys):
    for argv, message in ((["--engines", "minigan-fortran"], "--engines minigan-fortran: not available here"),
                          (["--warmup", "-1"], "argument --warmup: must be an integer >= 0, got -1"),
                          (["--save", "--no-save"], "choose one")):
        with pytest.raises(SystemExit) as e:
            bench_step.main(argv)
        err = capsys.readouterr().err
        assert e.value.code == 2 and message in err and err.count("\n") == 1, err


def test_a_dcgan64_step_run_writes_its_own_file_beside_another_machines(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(bench_step, "RESULTS", str(tmp_path))
    monkeypatch.setattr(bench_step, "machine_name", lambda: "Test CPU x2")
    other = tmp_path / "step_dcgan64_test-cpu-x2.json"
    _write(other, "Test CPU x2, another one")
    bench_step.main(["--model", "dcgan64", "--batch", "2", "--repeats", "1", "--warmup", "0",
                     "--engines", "minigan-numpy", "--no-memory"])
    assert json.loads(other.read_text())["machine"] == "Test CPU x2, another one"      # untouched
    record = json.loads((tmp_path / "step_dcgan64_test-cpu-x2.new.json").read_text())
    assert record["model"] == "dcgan64" and record["machine"] == "Test CPU x2"
    assert [(r["engine"], r["batch"], r["model"]) for r in record["rows"]] == [("minigan-numpy", 2, "dcgan64")]
    assert (tmp_path / "step_dcgan64_test-cpu-x2.new.png").is_file()
    assert "wrote " + str(tmp_path / "step_dcgan64_test-cpu-x2.new.json") in capsys.readouterr().out


def test_layers_of_dcgan64_in_the_step_layout(tmp_path):
    out = tmp_path / "layers.md"
    bench_layers.main(["--model", "dcgan64", "--batch", "2", "--repeats", "1", "--device", "cpu", "--no-torch",
                       "--out", str(out)])
    text = out.read_text()
    assert "### dcgan64, cpu, batch 2" in text
    assert "| G[4] ConvTranspose2d | (2, 512, 4, 4) → (2, 256, 8, 8) |" in text
    assert "| D[8] Conv2d | (2, 256, 8, 8) → (2, 512, 4, 4) |" in text
