"""Load a folder of images (any format Pillow reads) as one uint8 array for a DCGAN.

Each image is converted to RGB (or grayscale), center-cropped to a square and resized to
``size`` × ``size`` (Lanczos), upright as its EXIF orientation says (a phone's portrait photo
is stored sideways with a tag saying so). Files and folders whose names start with a dot are
skipped; sub-folders are searched too, symbolic links to folders included (each folder once: a
link back to a folder already searched, a loop, is not followed again). Anything else that is
not an image is an error that names the file — a stray ``notes.txt`` is better reported than
silently skipped.

Images are read at their real values: 16-bit images are scaled 0..65535 → 0..255 (Pillow's own
conversion would clip everything above 255 to white) and float images in [0, 1] or [0, 255]
are scaled to 0..255; other float ranges, decompression bombs (images larger than Pillow's
safety limit) and files that are not regular files (a FIFO would block) are refused.
"""
import os
import stat

import numpy as np

__all__ = ["load_image_folder", "ImageFolderError", "list_files", "searched_folders"]


class ImageFolderError(ValueError):
    """The folder is missing, empty, or holds a file that is not a usable image."""


def _walk(folder):
    """(folder, sorted non-hidden file names) for ``folder`` and every non-hidden folder under
    it, following symbolic links to folders but entering each folder (device, inode) once."""
    seen = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        st = os.stat(root)
        key = (st.st_dev, st.st_ino)
        if key in seen:                           # reached again through a link: a loop or twin
            dirs[:] = []
            continue
        seen.add(key)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield root, sorted(f for f in files if not f.startswith("."))


def list_files(folder):
    """Sorted paths of the non-hidden files under ``folder`` (symbolic links to folders
    followed, each folder once)."""
    return [os.path.join(root, f) for root, files in _walk(folder) for f in files]


def searched_folders(folder):
    """The real paths of every folder :func:`list_files` searches (links resolved)."""
    return [os.path.realpath(root) for root, _ in _walk(folder)]


def load_image_folder(folder, size=64, grayscale=False, allow_mixed_sizes=False):
    """Images under ``folder`` as uint8 (N, C, size, size), C = 1 (grayscale) or 3.

    By default all images must share one size (mixed sizes usually mean a mistake, such as
    thumbnails mixed in); ``allow_mixed_sizes=True`` center-crops and resizes each one anyway.
    Raises :class:`ImageFolderError` with a message naming the folder or file.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not os.path.isdir(folder):
        raise ImageFolderError(f"{folder}: no such folder")
    paths = list_files(folder)
    if not paths:
        raise ImageFolderError(f"{folder}: no image files in the folder")
    mode = "L" if grayscale else "RGB"
    images, first = [], None
    for p in paths:
        if not os.path.exists(p):
            raise ImageFolderError(f"{p}: a symbolic link to {os.readlink(p)}, which does not "
                                   f"exist (remove it from the folder)")
        if not stat.S_ISREG(os.stat(p).st_mode):
            raise ImageFolderError(f"{p}: not a regular file (remove it from the folder)")
        try:
            with Image.open(p) as im:
                im.load()
                upright = ImageOps.exif_transpose(im)      # EXIF orientation applied
                img = _to_8_bit(upright, p).convert(mode)
        except Image.DecompressionBombError as e:
            raise ImageFolderError(f"{p}: refused, {e}") from None
        except (UnidentifiedImageError, OSError, ValueError) as e:
            if isinstance(e, ImageFolderError):
                raise
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


def _to_8_bit(im, path):
    """A Pillow image with 8-bit channels holding ``im``'s real values: 16-bit (modes I;16*, and
    I with values up to 65535) scaled by 255/65535, float (mode F) in [0, 1] or [0, 255] scaled
    to 0..255; any other range is refused with its values named."""
    from PIL import Image
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        if im.mode == "F":
            if lo >= 0 and hi <= 1:
                a = a * 255
            elif not (lo >= 0 and hi <= 255):
                raise ImageFolderError(f"{path}: a float image with values in [{lo:g}, {hi:g}]; "
                                       f"expected [0, 1] or [0, 255]")
        elif lo >= 0 and hi <= 65535:
            a = a * (255 / 65535)
        else:
            raise ImageFolderError(f"{path}: a {im.mode} image with values in [{lo:g}, {hi:g}]; "
                                   f"expected 16-bit values 0..65535")
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), mode="L")
    return im
