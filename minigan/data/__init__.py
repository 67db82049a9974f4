"""Data sets: MNIST / Fashion-MNIST (IDX files, download, offline fallback) and Julia-set images.

Importing this package is cheap: numba, cupy, matplotlib, Pillow and tqdm are imported only by
the functions that need them.
"""
from .idx import IDXFormatError, read_idx, write_idx
from .download import DownloadError, download_file, md5_of_file
from .images import scale_to_tanh_range, scale_to_unit_range, to_uint8, save_grayscale_pngs
from .mnist import (DataSource, DatasetNotFoundError, MNISTFallbackWarning, default_data_dir,
                    load_mnist, load_mnist_5k, offline_digits_path)
from .julia import (julia_images, julia_c_values, julia_axes, scale_julia, render_heatmap_grid,
                    save_julia_pngs)

__all__ = [
    "IDXFormatError", "read_idx", "write_idx",
    "DownloadError", "download_file", "md5_of_file",
    "scale_to_tanh_range", "scale_to_unit_range", "to_uint8", "save_grayscale_pngs",
    "DataSource", "DatasetNotFoundError", "MNISTFallbackWarning", "default_data_dir",
    "load_mnist", "load_mnist_5k", "offline_digits_path",
    "julia_images", "julia_c_values", "julia_axes", "scale_julia", "render_heatmap_grid",
    "save_julia_pngs",
]
