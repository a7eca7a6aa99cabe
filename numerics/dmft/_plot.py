"""The DMFT figure (escalier dmft --plot, examples/dmft_vs_simulation.py)."""

from __future__ import annotations

__all__ = ["plot_dmft"]


def plot_dmft(sol, sims=(), title: str = ""):
    """A matplotlib figure: M and diag Q against t (DMFT lines; simulation means with
    standard errors, sims = [{"times", "M", ...}]) and the DMFT losses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    p, k = sol.M.shape[1:]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    c = 0
    for j in range(p):
        for r in range(k):
            ax.plot(sol.times, sol.M[:, j, r], f"C{c}-", label=f"M{j + 1}{r + 1} DMFT")
            for s in sims:
                m = np.asarray(s["M"])[:, :, j, r]
                ax.errorbar(s["times"], m.mean(0), m.std(0) / np.sqrt(len(m)), fmt=f"C{c}.",
                            ms=3, alpha=0.6)
            c += 1
        ax.plot(sol.times, sol.Q[:, j, j], f"C{c}--", label=f"Q{j + 1}{j + 1} DMFT")
        for s in sims:
            if "Q" in s:
                q = np.asarray(s["Q"])[:, :, j, j]
                ax.errorbar(s["times"], q.mean(0), q.std(0) / np.sqrt(len(q)), fmt=f"C{c}.",
                            ms=3, alpha=0.6)
        c += 1
    ax.set(xlabel="t = GD steps / d", ylabel="overlap", title=title)
    ax.legend(fontsize=7)
    bx.plot(sol.times, sol.train_loss, label="train (DMFT)")
    bx.plot(sol.times, sol.test_loss, label="test (DMFT)")
    bx.set(xlabel="t", ylabel="half mean squared error", yscale="log")
    bx.legend(fontsize=8)
    fig.tight_layout()
    return fig
