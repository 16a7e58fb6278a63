"""Interactive explorers used in the book.

The logic is pure functions (parameters in, arrays and figures out) that tests
call directly; the ipywidgets wiring is a thin layer over them.

- :mod:`sertools.widgets.filters` - the filter explorer (chapter "Signal processing")
- :mod:`sertools.widgets.mfcc` - the MFCC explorer (chapter "MFCC")
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """PNG bytes of a matplotlib figure, as both explorers show it.

    Rendering to PNG (rather than displaying the Figure) works in a fresh kernel
    without pyplot's inline backend, and lets an ``ipywidgets.Image`` update in place.

    Notebook: ``book/03_signal_processing.ipynb``, ``book/04_mfcc.ipynb``.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
