"""Figures without a display: matplotlib's Agg canvas, saved atomically.

Figures are ``matplotlib.figure.Figure`` objects with an Agg canvas: no pyplot, so nothing here
touches a global backend or opens a window.
"""
import os

from .atomic import atomic_write

__all__ = ["new_figure", "save_figure"]


def new_figure(width=10.0, height=6.0):
    """A Figure with an Agg canvas (draw on it with ``fig.add_subplot``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path):
    """Write a figure made by :func:`new_figure` as a PNG (or the format of the name's
    extension), atomically: a run killed mid-write never leaves a truncated picture under
    ``path``. Returns ``path``."""
    fmt = os.path.splitext(os.fspath(path))[1][1:].lower() or "png"
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format=fmt))
    return path
