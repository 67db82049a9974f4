"""Issue 26, checkpoints: only the members a reader needs are read, each member's declared shape
and dtype checked before its data; NaN/inf weights refused; the whole saved configuration
(builders, settings, data source, accumulators, fixed noise, epoch order) checked on --resume,
in latent_walk and in ``python -m minigan.eval``; one line, exit code 2, files unchanged."""
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from minigan import gan
from minigan.files import npz
from minigan.gan.walk import generator_from_checkpoint
from test_examples import ROOT
from test_reliability_cli import TINY, failure, snapshot


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A 2-step mnist_dcgan run (with its averaged generator): arrays and meta to edit."""
    from test_examples import run
    out = tmp_path_factory.mktemp("base")
    assert run("mnist_dcgan", "--max-steps", 2, "--out", out, *TINY) == 0
    with np.load(out / "checkpoint.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return out, arrays, json.loads(str(arrays.pop("__meta__")))


def write(folder, arrays, meta, extra=None):
    folder.mkdir(exist_ok=True)
    path = folder / "checkpoint.npz"
    np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)
    if extra:
        with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
            extra(zf)
    return path


def npy_header(shape, dtype="<f4"):
    """The bytes of a .npy header declaring ``shape`` and ``dtype`` (no data)."""
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()                               # (magic included)


def huge_member(name, mib):
    """A deflated member declaring ``mib`` MiB of float32 zeros (a few hundred KB on disk)."""
    def add(zf):
        with zf.open(name + ".npy", "w", force_zip64=True) as f:
            f.write(npy_header((mib * 2**18,)))
            block = bytes(2**20)
            for _ in range(mib):
                f.write(block)
    return add


def test_a_member_the_run_does_not_need_is_never_read(tmp_path, base, monkeypatch):
    """One extra member declaring 256 MiB used to be inflated on --resume, in eval and in
    latent_walk (1.1 GB of memory for a 1 MB file and a 1 GiB member)."""
    from test_gan_trainer import make_trainer
    make_trainer(tmp_path, 4).fit()
    with zipfile.ZipFile(tmp_path / "checkpoint.npz", "a", compression=zipfile.ZIP_DEFLATED) as zf:
        huge_member("junk/big", 256)(zf)
    read = []
    original = npz.NpzReader.read
    monkeypatch.setattr(npz.NpzReader, "read", lambda self, name, **kw: read.append(name) or
                        original(self, name, **kw))
    trainer = make_trainer(tmp_path, 8)
    trainer.load_checkpoint()
    assert trainer.step == 4 and read and "junk/big" not in read
    _, arrays, meta = base
    write(tmp_path / "run", arrays, meta, extra=huge_member("junk/big", 256))
    read.clear()
    generator_from_checkpoint(tmp_path / "run" / "checkpoint.npz")
    assert read and all(n.startswith(("G/", "G_ema/", "__meta__")) for n in read), read


def test_a_member_declaring_another_shape_is_refused_before_its_data(tmp_path, base, capsys):
    _, arrays, meta = base
    arrays = dict(arrays)
    name = "G/0.weight"
    del arrays[name]
    out = tmp_path / "run"

    def declare_huge(zf):                      # declares 4 GiB, holds 16 bytes
        zf.writestr(name + ".npy", npy_header((2**30,)) + bytes(16))
    write(out, arrays, meta, extra=declare_huge)
    before = snapshot(out)
    line = failure(capsys, "mnist_dcgan", "--resume", "--out", out, *TINY)
    assert f"member '{name}' declares shape (1073741824,), expected (12544, 100)" in line
    assert snapshot(out) == before
    with pytest.raises(gan.CheckpointError, match=r"declares 4,294,967,296 bytes of data .* holds 16"):
        gan.load_checkpoint(out / "checkpoint.npz")


def test_a_text_entry_declaring_too_much_is_refused(tmp_path, base):
    _, arrays, meta = base
    path = tmp_path / "c.npz"
    np.savez(path, **arrays)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("__meta__.npy", npy_header((), "<U100000000") + bytes(16))
    with pytest.raises(gan.CheckpointError, match=r"member '__meta__' declares 400,000,000 bytes"):
        gan.read_meta(path)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf_weights_are_refused_on_load(tmp_path, base, capsys, value):
    """--resume trained a step and then blamed the learning rate; latent_walk wrote an all-black
    GIF with exit 0."""
    _, arrays, meta = base
    arrays = dict(arrays, **{"G_ema/0.weight": arrays["G_ema/0.weight"].copy()})
    arrays["G_ema/0.weight"][3, 4] = value
    out = tmp_path / "run"
    write(out, arrays, meta)
    before = snapshot(out)
    expected = "'G_ema/0.weight' holds 1 NaN or inf value(s) of 1,254,400"
    assert expected in failure(capsys, "mnist_dcgan", "--resume", "--out", out, *TINY)
    assert expected in failure(capsys, "latent_walk", "--checkpoint", out / "checkpoint.npz",
                               "--quiet")
    assert snapshot(out) == before
    p = subprocess.run([sys.executable, "-m", "minigan.eval", str(out / "checkpoint.npz")],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 2 and expected in p.stderr and len(p.stderr.strip().splitlines()) == 1


def edit_config(*keys, value):
    def edit(meta, arrays):
        d = meta
        for k in keys[:-1]:
            d = d[k]
        if value is KeyError:
            del d[keys[-1]]
        else:
            d[keys[-1]] = value
    return edit


def set_array(name, make):
    def edit(meta, arrays):
        arrays[name] = make(arrays[name])
    return edit


RESUME_CASES = {
    "version as text": (edit_config("version", value="1"), "checkpoint version '1' is not a whole number"),
    "builder option": (edit_config("config", "generator", "kwargs", "bogus", value=1),
                       "its generator's builder dcgan28_generator has no option 'bogus'"),
    "builder value": (edit_config("config", "generator", "kwargs", "z_dim", value=-3),
                      "its generator's option z_dim is -3, expected a whole number >= 1"),
    "builder name": (edit_config("config", "discriminator", "builder", value="os.system"),
                     "its discriminator names the builder 'os.system', which minigan does not have"),
    "spectral norm": (edit_config("config", "discriminator", "kwargs", "spectral_norm", value="yes"),
                      "its discriminator's option spectral_norm is 'yes', expected true or false"),
    "setting type": (edit_config("config", "train", "lr_g", value="fast"),
                     "its training settings are not usable: lr_g must be a finite number, got 'fast'"),
    "betas": (edit_config("config", "train", "betas_g", value=[2, 3]),
              "betas_g must be two numbers in [0, 1)"),
    "z_dim": (edit_config("config", "train", "z_dim", value=7),
              "its generator takes z_dim 100 but its training settings say 7"),
    "data set": (edit_config("config", "data", "dataset", value="/etc"),
                 "its data entry 'dataset' is '/etc', expected one of mnist, fashion"),
    "data missing": (edit_config("config", "data", value=KeyError),
                     "its data entry lacks dataset"),
    "accumulator": (edit_config("epoch_acc", "n", value="x"), "its entry 'epoch_acc' is"),
    "health": (edit_config("health", "check_step", value=1), "its health entry 'check_step' is 1"),
    "ema updates": (edit_config("ema_updates", value=-5), "its entry 'ema_updates' is -5"),
    "mg_rng": (edit_config("mg_rng", value={"x": 1}), "its entry 'mg_rng' is"),
    "fixed noise": (set_array("trainer/fixed_noise", lambda a: a[:3, :5].copy()),
                    "member 'trainer/fixed_noise' declares shape (3, 5), expected (64, 100)"),
    "epoch order": (set_array("trainer/perm", lambda a: np.full_like(a, 99999)),
                    "its epoch order 'trainer/perm' (int64 (4500,)) is not an order of the 4500"),
    "epoch order dtype": (set_array("trainer/perm", lambda a: a.astype(np.float32)),
                          "is not an order of the 4500 training samples"),
    "optimizer state": (set_array("optG/0/exp_avg", lambda a: a[:3, 0].copy()),
                        "member 'optG/0/exp_avg' declares shape (3,), expected (12544, 100)"),
}


@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_resume_checks_the_whole_checkpoint(tmp_path, base, capsys, case):
    """Each of these used to end in a traceback (or, for the RNG, resume inexactly)."""
    edit, message = RESUME_CASES[case]
    _, arrays, meta = base
    meta, arrays = json.loads(json.dumps(meta)), dict(arrays)
    edit(meta, arrays)
    out = tmp_path / "run"
    write(out, arrays, meta)
    before = snapshot(out)
    line = failure(capsys, "mnist_dcgan", "--resume", "--max-steps", 3, "--out", out, *TINY)
    assert line.count("--resume") == 1 and message in line, line
    assert snapshot(out) == before


def test_latent_walk_and_eval_check_the_generators_config(tmp_path, base, capsys):
    _, arrays, meta = base
    meta = json.loads(json.dumps(meta))
    meta["config"]["generator"]["kwargs"]["slope"] = "steep"
    out = tmp_path / "run"
    write(out, arrays, meta)
    message = "its generator's option slope is 'steep', expected a finite number"
    assert message in failure(capsys, "latent_walk", "--checkpoint", out / "checkpoint.npz", "--quiet")
    p = subprocess.run([sys.executable, "-m", "minigan.eval", str(out / "checkpoint.npz")],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 2 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content, message", [
    (b"hello, not numpy at all", "not a .npy file"),
    (None, "expected numbers, got dtype object"),
])
def test_eval_gives_numpys_pickle_advice_to_no_one(tmp_path, content, message):
    path = tmp_path / "samples.npy"
    if content is None:
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        path.write_bytes(content)
    p = subprocess.run([sys.executable, "-m", "minigan.eval", str(path)], capture_output=True,
                       text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 2 and message in p.stderr and "allow_pickle" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_an_image_folder_named_by_the_checkpoint_is_not_the_users_to_clean(tmp_path, capsys, julia_pngs):
    """A data folder of /etc in a hand-edited checkpoint ended in advice to delete a system file."""
    from test_examples import run
    out = tmp_path / "run"
    assert run("image_folder_dcgan", "--images", julia_pngs, "--image-size", 32, "--max-steps", 1,
               "--batch-size", 8, "--out", out, "--quiet") == 0
    with np.load(out / "checkpoint.npz") as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    meta["config"]["data"]["folder"] = "/etc"
    write(out, arrays, meta)
    before = snapshot(out)
    line = failure(capsys, "image_folder_dcgan", "--resume", "--out", out, "--max-steps", 2)
    assert f"--resume: {out / 'checkpoint.npz'} names the image folder /etc, which does not hold" in line
    assert "remove it" not in line and "pass --images DIR" in line
    assert snapshot(out) == before


def test_a_member_of_unknown_shape_is_bounded(tmp_path, base, monkeypatch):
    """Read without an expected shape (load_checkpoint's default), a member may not declare more
    than MAX_UNCHECKED_BYTES: refused from its header, nothing inflated."""
    _, arrays, meta = base
    monkeypatch.setattr(npz, "MAX_UNCHECKED_BYTES", 8 * 2**20)        # above the real members
    path = write(tmp_path / "run", arrays, meta, extra=huge_member("junk/big", 9))
    with pytest.raises(gan.CheckpointError, match=r"member 'junk/big' declares 9,437,184 bytes .* more "
                                                  r"than the 8,388,608 a member of unknown shape may"):
        gan.load_checkpoint(path)
