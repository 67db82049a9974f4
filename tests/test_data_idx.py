"""IDX reader/writer: round trips, and every kind of broken file rejected with its name."""
import gzip

import numpy as np
import pytest

from minigan.data.idx import IDXFormatError, read_idx, write_idx

ARRAYS = {
    "images_u8": np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28),
    "labels_u8": np.array([7, 2, 1, 0, 4], dtype=np.uint8),
    "i8": np.array([[-128, 0, 127]], dtype=np.int8),
    "i16": np.array([-30000, 1, 30000], dtype=np.int16),
    "i32": np.arange(-6, 6, dtype=np.int32).reshape(2, 3, 2),
    "f32": np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5),
    "f64": np.array([np.pi, -np.e, 1e300], dtype=np.float64),
    "empty": np.zeros((0, 28, 28), dtype=np.uint8),
}


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_round_trip(tmp_path, name, suffix):
    arr = ARRAYS[name]
    path = tmp_path / f"{name}-idx{suffix}"
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)
    assert back.dtype.isnative and back.flags.writeable


def test_writer_layout_is_big_endian_idx(tmp_path):
    path = tmp_path / "x-idx1"
    write_idx(path, np.array([1, 256], dtype=np.int32))
    raw = path.read_bytes()
    assert raw == bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 0])


def test_gzip_chosen_by_suffix_or_flag_and_detected_by_magic(tmp_path):
    arr = ARRAYS["labels_u8"]
    gz = write_idx(tmp_path / "a.gz", arr)
    assert open(gz, "rb").read(2) == b"\x1f\x8b"
    plain = write_idx(tmp_path / "b", arr)
    assert open(plain, "rb").read(2) == b"\x00\x00"
    hidden = write_idx(tmp_path / "c-no-suffix", arr, compress=True)  # gzip without .gz
    np.testing.assert_array_equal(read_idx(hidden), arr)


def test_writer_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x", np.uint8(3))


def _expect_error(path, *fragments):
    with pytest.raises(IDXFormatError) as info:
        read_idx(path)
    msg = str(info.value)
    assert str(path) in msg
    for fragment in fragments:
        assert fragment in msg, msg
    return msg


def test_truncated_plain_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, ARRAYS["images_u8"])
    full = path.read_bytes()
    path.write_bytes(full[:-100])
    _expect_error(path, "truncated", f"expected {len(full)} bytes", f"got {len(full) - 100}",
                  "(3, 28, 28)")


def test_trailing_bytes(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    write_idx(path, ARRAYS["labels_u8"])
    path.write_bytes(path.read_bytes() + b"\x00\x00")
    _expect_error(path, "trailing", "expected 13 bytes", "got 15")


def test_truncated_header(tmp_path):
    path = tmp_path / "short-idx3"
    path.write_bytes(bytes([0, 0, 0x08, 3, 0, 0, 0, 1]))
    _expect_error(path, "header", "expected 16 bytes", "got 8")
    path.write_bytes(b"\x00\x00")
    _expect_error(path, "expected at least 4 bytes", "got 2")


def test_wrong_magic(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"PK\x03\x04" + bytes(20))
    _expect_error(path, "magic", "00 00", "50 4b")


def test_unknown_dtype_and_bad_ndim(tmp_path):
    path = tmp_path / "odd-idx"
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 0]))
    _expect_error(path, "dtype code", "0x07")
    path.write_bytes(bytes([0, 0, 0x08, 0]))
    _expect_error(path, "dimension count", "got 0")


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    write_idx(path, ARRAYS["images_u8"])
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    _expect_error(path, "truncated gzip")


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 200]) + bytes(range(200))))
    raw = bytearray(path.read_bytes())
    raw[-8] ^= 0xFF  # damage the CRC32 in the trailer
    path.write_bytes(bytes(raw))
    _expect_error(path, "corrupt gzip")
    path.write_bytes(b"\x1f\x8b" + bytes(30))  # gzip magic, garbage after it
    _expect_error(path, "gzip")


def _peak_bytes(fn):
    """The most memory Python and NumPy held at once while ``fn`` ran (tracemalloc)."""
    import tracemalloc
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_small_gzip_that_inflates_far_past_its_header_is_refused_without_inflating(tmp_path):
    path = tmp_path / "bomb-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:       # 4 labels declared, 64 MiB follow
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4]))
        for _ in range(64):
            f.write(bytes(1 << 20))
    assert path.stat().st_size < 1 << 20
    peak = _peak_bytes(lambda: _expect_error(path, "trailing bytes", "expected 12 bytes",
                                             "got more than 12 once decompressed", "(4,)"))
    assert peak < 1 << 20, peak


def test_a_huge_sparse_file_is_judged_by_its_header_without_reading_it(tmp_path):
    path = tmp_path / "sparse-idx3"
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04")
        f.truncate(2 << 30)                                   # 2 GiB, almost all holes
    assert _peak_bytes(lambda: _expect_error(path, "magic", "50 4b")) < 1 << 20
    with open(path, "r+b") as f:                              # a valid header of 3 bytes of data
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3]))
    msg = _expect_error(path, "trailing bytes", "expected 11 bytes", f"got {2 << 30}")
    assert msg.count("\n") == 0


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_sizes_are_multiplied_without_wrapping_and_bounded_by_memory(tmp_path, suffix):
    path = tmp_path / f"wrap-idx3{suffix}"
    header = bytes([0, 0, 8, 3]) + (2 ** 31).to_bytes(4, "big") * 2 + (4).to_bytes(4, "big")
    path.write_bytes(gzip.compress(header) if suffix else header)   # 2^64 bytes: 0 in int64
    _expect_error(path, "the header declares data of shape (2147483648, 2147483648, 4) uint8",
                  f"{2 ** 64:,} bytes", "more than this machine's")
