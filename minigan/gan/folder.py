"""Load a folder of images (any format Pillow reads) as one uint8 array for a DCGAN.

Each image is converted to RGB (or grayscale), center-cropped to a square and resized to
``size`` × ``size`` (Lanczos). Files and folders whose names start with a dot are skipped;
sub-folders are searched too. Anything else that is not an image is an error that names the
file — a stray ``notes.txt`` is better reported than silently skipped.
"""
import os

import numpy as np

__all__ = ["load_image_folder", "ImageFolderError", "list_files"]


class ImageFolderError(ValueError):
    """The folder is missing, empty, or holds a file that is not a usable image."""


def list_files(folder):
    """Sorted paths of the non-hidden files under ``folder``."""
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths += [os.path.join(root, f) for f in sorted(files) if not f.startswith(".")]
    return paths


def load_image_folder(folder, size=64, grayscale=False, allow_mixed_sizes=False):
    """Images under ``folder`` as uint8 (N, C, size, size), C = 1 (grayscale) or 3.

    By default all images must share one size (mixed sizes usually mean a mistake, such as
    thumbnails mixed in); ``allow_mixed_sizes=True`` center-crops and resizes each one anyway.
    Raises :class:`ImageFolderError` with a message naming the folder or file.
    """
    from PIL import Image, UnidentifiedImageError

    if not os.path.isdir(folder):
        raise ImageFolderError(f"{folder}: no such folder")
    paths = list_files(folder)
    if not paths:
        raise ImageFolderError(f"{folder}: no image files in the folder")
    mode = "L" if grayscale else "RGB"
    images, first = [], None
    for p in paths:
        try:
            with Image.open(p) as im:
                im.load()
                img = im.convert(mode)
        except (UnidentifiedImageError, OSError, ValueError) as e:
            why = "not an image Pillow can read" if isinstance(e, UnidentifiedImageError) else str(e)
            raise ImageFolderError(f"{p}: {why} (remove it from the folder)") from None
        if first is None:
            first = (p, img.size)
        elif img.size != first[1] and not allow_mixed_sizes:
            raise ImageFolderError(
                f"{folder}: images have different sizes ({first[1][0]}x{first[1][1]} in "
                f"{os.path.basename(first[0])}, {img.size[0]}x{img.size[1]} in "
                f"{os.path.basename(p)}); pass --allow-mixed-sizes to center-crop and resize "
                f"each to {size}x{size}")
        w, h = img.size
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        img = img.crop((left, top, left + s, top + s))
        if s != size:
            img = img.resize((size, size), Image.Resampling.LANCZOS)
        a = np.asarray(img, dtype=np.uint8)
        images.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
    return np.stack(images)
