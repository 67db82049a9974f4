"""Checks before a run writes anything: can it write into its output folder, does what an option
asks for fit in memory. Nothing here creates or changes a file."""
import os
import tempfile

from ..gan.outputs import GRID_DIR, OUTPUT_FILES
from ..nn.init import physical_memory
from .failures import UsageError, describe_os_error


def check_output_folder(out):
    """None if a run can write into ``out``, else what is wrong: it is a file, one of the run's
    files there is a folder (or the grids folder a file), or it is not writable. Nothing is
    created or changed."""
    if os.path.islink(out) and not os.path.exists(out):
        return (f"is a symbolic link to {os.readlink(out)}, which does not exist (or loops); "
                f"create its target or remove the link")
    if os.path.exists(out) and not os.path.isdir(out):
        return "exists and is not a folder"
    if not os.path.isdir(out):
        parent = os.path.dirname(os.path.abspath(out))
        while not os.path.isdir(parent):          # the nearest folder that exists
            if os.path.exists(parent):
                return f"{parent} is a file, not a folder"
            parent = os.path.dirname(parent)
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"cannot create it: no permission to write into {parent}"
        return None
    for name in OUTPUT_FILES:
        path = os.path.join(out, name)
        if os.path.exists(path) and not os.path.isfile(path):
            return f"{path} is in the way (a folder or other non-file where the run writes a file)"
    grids = os.path.join(out, GRID_DIR)
    if os.path.exists(grids) and not os.path.isdir(grids):
        return f"{grids} is a file where the run keeps its grid images (a folder)"
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        return f"cannot write into it: {describe_os_error(e)}"
    return None




def check_memory(option, nbytes, what):
    """Refuse (UsageError) an option whose result alone would need more than this machine's RAM."""
    total = physical_memory()
    if total and nbytes > total:
        raise UsageError(f"{option}: {what} would need {nbytes / 2**30:,.1f} GiB, more than this "
                         f"machine's {total / 2**30:,.1f} GiB of memory")
