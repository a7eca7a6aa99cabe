"""Writing matplotlib figures: the one place that saves a figure and turns a failure into an error."""

from __future__ import annotations


def save_figure(fig, path: str) -> str:
    """Write ``fig`` to ``path`` (format from the suffix), close it and return the path.

    An unwritable path or an unknown suffix is a ``ValueError`` naming the path; the figure is
    closed either way, so long runs that plot many figures do not accumulate them.
    """
    import matplotlib.pyplot as plt

    path = str(path)
    try:
        fig.savefig(path, dpi=130)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot write the plot {path}: {err}") from None
    finally:
        plt.close(fig)
    return path
