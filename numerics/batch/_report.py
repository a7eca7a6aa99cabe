"""The batch study as text and as a figure (used by `escalier batch` and the example)."""

from __future__ import annotations

import math

from escalier.numerics.figures import save_figure

__all__ = ["plot_study", "report"]


def _fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:g}"


def report(study) -> str:
    """The report: the learning-rate rule, T(n_b) tables, fits and the knee against d^(l/2)."""
    l = study.l
    lines = [
        f"target {study.target}, student {study.student}: information exponent l = {l}; "
        f"spherical single neuron, |m| from ~d^(-1/2) to {study.m_target}",
        f"learning rate (arXiv 2406.02157 scaling): gamma = eta/d = eta0 n_b / d^({l}/2), "
        f"eta0 = 2 eps |C_l| / E[g^2] = {study.eta0:.4g} (eps = {study.eps:g}); square loss "
        f"capped at gamma_max = kappa/|E[dg/dlambda]| = {study.gamma_max:.4g} "
        f"(kappa = {study.kappa:g})",
        f"T = median, over the gram-engine runs (of {study.seeds}) that start with m0 > 0, of "
        f"the first step with |m| >= {study.m_target}; T_map = the finite-step map from "
        f"m = d^(-1/2)",
    ]
    for c in study.curves:
        lines.append(f"\n{c.loss} loss, d = {c.d} (d^(l/2) = {c.d ** (l / 2):.0f}):")
        lines.append(f"  {'n_b':>8} {'n_b/d^(l/2)':>11} {'gamma':>9} {'T':>9} "
                     f"{'T quartiles':>17} {'T_map':>8} {'n_b T':>10}")
        for nb, lr, T, q, tm in zip(c.n_b, c.lr, c.steps_gram, c.quartiles, c.steps_map,
                                    strict=True):
            lines.append(f"  {nb:>8d} {nb / c.d ** (l / 2):>11.3g} {lr / c.d:>9.3g} "
                         f"{_fmt(T):>9} {_fmt(q[0]) + '-' + _fmt(q[1]):>17} {_fmt(tm):>8} "
                         f"{_fmt(nb * T):>10}")
        f = c.fit
        if f:
            beyond = f["knee"] > max(c.n_b)
            lines.append(f"  fit T = A/n_b + B: A = {f['A']:.4g}, B = {f['B']:.4g}; knee A/B = "
                         f"{_fmt(f['knee'])} = {_fmt(f['knee'] / c.d ** (l / 2))} d^(l/2)"
                         f"{' (beyond the largest n_b: no knee in range)' if beyond else ''}; "
                         f"log-log slope small n_b {f['slope_small']:.2f}, large n_b "
                         f"{f['slope_large']:.2f}")
        f = c.fit_map
        if f and f is not c.fit:  # the map's own fit, beside the gram medians
            lines.append(f"  map: A = {f['A']:.4g}, B = {f['B']:.4g}; knee A/B = "
                         f"{_fmt(f['knee'])} = {_fmt(f['knee'] / c.d ** (l / 2))} d^(l/2)")
    for loss, k in study.knee_exponent.items():
        lines.append("")
        for who, e in [("", k)] + ([("the map: ", k["map"])] if "map" in k else []):
            ratios = ", ".join(f"d={d}: {_fmt(v)}"
                               for d, v in e["knee_over_d_pow_l_over_2"].items())
            lines.append(f"knee ({loss}) {who}knee / d^(l/2) = {ratios or '-'}; fitted knee ~ "
                         f"d^{_fmt(e['exponent'])} (theory d^{l / 2:g})")
    return "\n".join(lines)


def plot_study(study, path: str) -> None:
    """T(n_b) per d and loss (gram medians, map dotted), knee marks, d^(l/2) lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    losses = [x for x in ("square", "correlation") if any(c.loss == x for c in study.curves)]
    fig, axes = plt.subplots(1, len(losses), figsize=(5 * len(losses), 4.2), sharey=True,
                             squeeze=False)
    axes = axes[0]
    ds = sorted({c.d for c in study.curves})
    for ax, loss in zip(axes, losses, strict=True):
        for i, d in enumerate(ds):
            for c in study.curves:
                if c.loss != loss or c.d != d:
                    continue
                nb = np.asarray(c.n_b, float)
                ax.plot(nb, c.steps_gram, "o-", color=f"C{i}", label=f"d = {d} (gram)")
                if np.any(np.isfinite(c.steps_map)):
                    ax.plot(nb, c.steps_map, ":", color=f"C{i}")
                ax.axvline(d ** (study.l / 2), color=f"C{i}", lw=0.6, ls="--")
                k = c.fit.get("knee", math.nan)
                if math.isfinite(k):
                    ax.plot([k], [c.fit["A"] / k + c.fit["B"]], "x", color=f"C{i}", ms=9)
        ax.set(xscale="log", yscale="log", xlabel="batch size n_b", title=f"{loss} loss")
        ax.legend(fontsize=7)
    axes[0].set_ylabel(f"iterations T to |m| = {study.m_target}")
    fig.suptitle(f"{study.target}, l = {study.l}: gram medians (o), finite-step map (dotted), "
                 f"d^(l/2) (dashed), fitted knee (x)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
