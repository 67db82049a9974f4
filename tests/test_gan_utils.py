"""Sampling (grids, slerp, diversity), health warnings, optimizer-state flattening, GIFs and
the image-folder loader."""
import numpy as np
import pytest
from PIL import Image

from minigan import gan, nn, optim
from minigan.files import checkpoint as ck
from minigan.gan.health import HealthMonitor
from minigan.gan.latent import latent_walk


# ----------------------------------------------------------------------------- slerp
def test_slerp_endpoints_and_sphere():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(50), rng.standard_normal(50)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    assert np.allclose(gan.slerp(a, b, 0.0), a) and np.allclose(gan.slerp(a, b, 1.0), b)
    path = gan.slerp(a, b, np.linspace(0, 1, 9))
    assert path.shape == (9, 50)
    assert np.allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a))   # stays on the sphere
    mid = gan.slerp(a, b, 0.5)
    assert np.linalg.norm(mid) > np.linalg.norm((a + b) / 2)              # lerp cuts inside
    assert np.allclose(gan.slerp(a, 2 * a, 0.5), 1.5 * a)                 # parallel: lerp


def test_slerp_path_loops():
    pts = np.random.default_rng(1).standard_normal((3, 4))
    loop = gan.slerp_path(pts, steps=5)
    assert loop.shape == (15, 4) and np.allclose(loop[0], pts[0]) and np.allclose(loop[5], pts[1])
    open_path = gan.slerp_path(pts, steps=5, loop=False)
    assert open_path.shape == (11, 4) and np.allclose(open_path[-1], pts[-1])
    frames = latent_walk(lambda z: z.reshape(-1, 1, 1, 4), 4, walks=3, points=2, steps=4)
    assert frames.shape == (8, 3, 1, 1, 4)


# ----------------------------------------------------------------------------- grids
def test_grid_image_layout_and_renders():
    imgs = np.full((5, 1, 4, 3), -1.0)
    imgs[1] = 1.0
    g = gan.grid_image(imgs, nrow=3, pad=1)
    assert g.shape == (2 * 5 + 1, 3 * 4 + 1) and g.dtype == np.uint8
    assert g[1, 1] == 0 and g[1, 5] == 255 and g[0, 0] == 128     # black, white, gray padding
    assert gan.grid_image(imgs, render="heatmap", scale=2).shape[2] == 3
    rgb = gan.grid_image(np.zeros((4, 3, 2, 2)), value_range=(0, 1), render="rgb")
    assert rgb.shape == (10, 10, 3)                     # 2 x 2 tiles of 2 px, 2 px padding
    with pytest.raises(ValueError, match="render"):
        gan.grid_image(imgs, render="sepia")


def test_mean_pairwise_distance():
    assert gan.mean_pairwise_distance(np.ones((6, 3, 4))) == pytest.approx(0.0, abs=1e-6)
    x = np.zeros((2, 4))
    x[1] = 2.0
    assert gan.mean_pairwise_distance(x) == pytest.approx(2.0)


def test_save_gif(tmp_path):
    frames = [np.full((8, 8), v, np.uint8) for v in (0, 128, 255)]
    path = gan.save_gif(frames, str(tmp_path / "a.gif"), duration_ms=50)
    with Image.open(path) as im:
        assert im.n_frames == 3 and im.size == (8, 8)


# ----------------------------------------------------------------------------- health
def test_health_warns_once_when_d_wins():
    said = []
    h = HealthMonitor("bce_logits", patience=5, say=said.append)
    for step in range(1, 4):
        h.check_step(step, 1.3, 0.8, 0.5, 0.45)
    for step in range(4, 20):
        h.check_step(step, 0.01, 6.0, 0.999, 0.002)
    assert len(said) == 1 and said[0].startswith("warning [step 8]") and "discriminator" in said[0]


def test_health_warns_when_g_loss_explodes_and_survives_checkpoints():
    said = []
    h = HealthMonitor("bce_logits", patience=3, say=said.append)
    h.check_step(1, 0.6, 200.0, 0.9, 0.0)             # far above the ceiling: at once
    assert "exploding" in said[0]
    h2 = HealthMonitor("bce_logits", patience=3, say=said.append)
    h2.load_state_dict(h.state_dict())
    h2.check_step(2, 0.6, 200.0, 0.9, 0.0)
    assert len(said) == 1                              # once, even across a resume


def test_health_warns_on_collapse_relative_to_peak():
    said = []
    h = HealthMonitor("bce", say=said.append)
    h.real_diversity = 0.4
    for step, d in enumerate([0.05, 0.3, 0.35, 0.3, 0.2], 1):
        h.check_diversity(step, d)
    assert not said
    h.check_diversity(6, 0.05)
    assert len(said) == 1 and "mode collapse" in said[0] and "14% of its peak" in said[0]


def test_health_warns_on_a_generator_that_never_had_diversity():
    said = []
    h = HealthMonitor("bce", say=said.append, warmup_steps=100)
    h.real_diversity = 0.36
    for step in (0, 50, 100):                      # low, but short of 4 checks in a row
        h.check_diversity(step, 0.004)
    assert not said
    h.check_diversity(150, 0.03)                   # still below 10% of the real images' 0.36
    assert len(said) == 1 and said[0].startswith("warning [step 150]")   # no peak to fall from


# ----------------------------------------------------------------------------- optimizer state
def test_optimizer_state_flattens_and_restores():
    lin = nn.Linear(3, 2)
    opt = optim.Adam(lin.parameters(), lr=0.01, betas=(0.5, 0.9))
    for p in lin.parameters():
        p.grad[...] = 1.0
    opt.step()
    arrays, rest = ck.flatten_optimizer_state(opt.state_dict(), "opt")
    assert sorted(arrays) == ["opt/0/exp_avg", "opt/0/exp_avg_sq", "opt/1/exp_avg", "opt/1/exp_avg_sq"]
    opt2 = optim.Adam(lin.parameters(), lr=1.0)
    opt2.load_state_dict(ck.unflatten_optimizer_state(arrays, rest, "opt"))
    assert opt2.param_groups[0]["betas"] == (0.5, 0.9) and opt2.state[1]["step"] == 1
    assert np.array_equal(opt2.state[0]["exp_avg"], opt.state[0]["exp_avg"])


# ----------------------------------------------------------------------------- image folders
def _png(path, size, mode="L"):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, size[::-1] + ((3,) if mode == "RGB" else ()),
                                                       dtype=np.uint8)).save(path)


def test_load_image_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    _png(tmp_path / "a.png", (40, 30), "RGB")
    _png(tmp_path / "sub" / "b.jpg", (40, 30))
    (tmp_path / ".hidden").write_text("skipped")
    x = gan.load_image_folder(str(tmp_path), size=16)
    assert x.shape == (2, 3, 16, 16) and x.dtype == np.uint8
    assert gan.load_image_folder(str(tmp_path), size=8, grayscale=True).shape == (2, 1, 8, 8)


def test_load_image_folder_errors(tmp_path):
    with pytest.raises(gan.ImageFolderError, match="no such folder"):
        gan.load_image_folder(str(tmp_path / "nope"))
    with pytest.raises(gan.ImageFolderError, match="no image files"):
        gan.load_image_folder(str(tmp_path))
    _png(tmp_path / "a.png", (20, 20))
    _png(tmp_path / "b.png", (30, 20))
    with pytest.raises(gan.ImageFolderError, match="different sizes.*--allow-mixed-sizes"):
        gan.load_image_folder(str(tmp_path))
    assert gan.load_image_folder(str(tmp_path), size=8, allow_mixed_sizes=True).shape == (2, 3, 8, 8)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(gan.ImageFolderError, match="notes.txt: not an image"):
        gan.load_image_folder(str(tmp_path), allow_mixed_sizes=True)
