"""OutputFolder: paths of a run's files, and the temporary files a kill left."""
from minigan.gan.outputs import GRID_DIR, OutputFolder


def test_no_folder_no_paths():
    folder = OutputFolder(None)
    assert not folder and folder.path("metrics.csv") is None


def test_prepare_removes_only_the_runs_temporary_files(tmp_path):
    out = tmp_path / "run"
    (out / GRID_DIR).mkdir(parents=True)
    stale = [out / "checkpoint.npz.ab_12.tmp", out / "eval.png.x1.tmp",
             out / GRID_DIR / "step_0000010.png.zz.tmp"]
    kept = [out / "notes.txt.ab.tmp", out / "checkpoint.npz", out / GRID_DIR / "other.png.a.tmp"]
    for p in stale + kept:
        p.write_bytes(b"")
    assert OutputFolder(str(out)).prepare() == 3
    assert [p.exists() for p in stale] == [False] * 3 and all(p.exists() for p in kept)
    assert OutputFolder(str(tmp_path / "new")).prepare() == 0 and (tmp_path / "new").is_dir()
