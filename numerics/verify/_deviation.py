"""How far the simulations stray from their ODE: per overlap and per d, with an exponent fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._fit import ExponentFit, fit_exponent

__all__ = ["DeviationTable", "deviation_table", "sup_deviation"]


def sup_deviation(sim, ode) -> tuple[np.ndarray, np.ndarray]:
    """Largest deviation over time of each seed's simulation from its own ODE solution.

        D_s,i = max_t |sim[s, t, i] - ode[s, t, i]|

    Args:
        sim, ode: (S, T, n) arrays (seeds, record times, components); each seed's ODE is
            integrated from that seed's initial overlaps.

    Returns:
        (mean over seeds of D, its standard error std / sqrt(S)), each of shape (n,);
        the standard error is nan for a single seed.

    Raises:
        ValueError: shapes differ or contain non-finite values.
    """
    sim, ode = np.asarray(sim, dtype=float), np.asarray(ode, dtype=float)
    if sim.shape != ode.shape or sim.ndim != 3:
        raise ValueError(f"sim and ode must both be (S, T, n), got {sim.shape}, {ode.shape}")
    if not (np.all(np.isfinite(sim)) and np.all(np.isfinite(ode))):
        raise ValueError("sim and ode must be finite everywhere to compare them")
    D = np.abs(sim - ode).max(axis=1)  # (S, n)
    S = D.shape[0]
    stderr = D.std(axis=0, ddof=1) / np.sqrt(S) if S > 1 else np.full(D.shape[1], np.nan)
    return D.mean(axis=0), stderr


@dataclass(frozen=True)
class DeviationTable:
    """Deviation of simulation from ODE per component and dimension, and its scaling in d.

    Attributes:
        names: component names (n,).
        ds: dimensions (n_d,), increasing.
        mean: (n_d, n) mean over seeds of max_t |sim - ode|.
        stderr: (n_d, n) its standard error across seeds.
        fits: per component, the fitted exponent of mean against d (None with one d).
            Theory: fluctuations of the overlaps are O(d^{-1/2}), so about -1/2.
    """

    names: tuple[str, ...]
    ds: tuple[int, ...]
    mean: np.ndarray
    stderr: np.ndarray
    fits: tuple[ExponentFit | None, ...]

    def to_text(self) -> str:
        """A plain-text table: one row per component, one column per d, then the fit."""
        width = max(8, *(len(n) for n in self.names))
        head = f"{'overlap':<{width}}" + "".join(f"{'d = ' + str(d):>22}" for d in self.ds)
        head += f"{'exponent in d':>20}"
        lines = [head]
        for i, name in enumerate(self.names):
            row = f"{name:<{width}}"
            for j in range(len(self.ds)):
                row += f"{self.mean[j, i]:>13.3e} +- {self.stderr[j, i]:<6.1e}"
            fit = self.fits[i]
            row += f"{'' if fit is None else str(fit):>20}"
            lines.append(row)
        return "\n".join(lines)

    def notes(self) -> list[str]:
        """Why an exponent differs from the expected -1/2, where one does (> -1/4)."""
        flat = [n for n, f in zip(self.names, self.fits, strict=True)
                if f is not None and f.exponent > -0.25]
        if not flat:
            return []
        return [
            f"{', '.join(flat)}: the largest deviation over time falls more slowly than "
            "d^(-1/2) here. For the overlaps and for the risk (a smooth function of them) the "
            "expected exponent is -1/2 (fluctuations of order d^(-1/2)) once d is large "
            "enough. At moderate d two effects can hide it: near a plateau (a saddle of the "
            "ODE, such as a committee's symmetric plateau) fluctuations are amplified until "
            "the escape, whose time then varies from seed to seed while the risk drops "
            "sharply; and a few seeds over a narrow range of d give a noisy fit (see its "
            "error). More seeds, larger d, or a --time that ends before the escape should "
            "bring it toward -1/2."]

    def to_json(self) -> dict:
        return {
            "notes": self.notes(),
            "names": list(self.names), "d": list(self.ds),
            "mean": self.mean.tolist(), "stderr": self.stderr.tolist(),
            "fits": [None if f is None else f.to_json() for f in self.fits],
        }


def deviation_table(names, ds, sims, odes) -> DeviationTable:
    """The DeviationTable of simulations against their ODE solutions at several d.

    Args:
        names: the n component names.
        ds: the dimensions.
        sims, odes: one (S, T, n) array per d (T may differ between d).

    Returns:
        DeviationTable; the exponent of each component is fitted (weighted by the standard
        errors when every one is positive) when there are at least two d.

    Raises:
        ValueError: lengths disagree, or a shape mismatch (see sup_deviation).
    """
    names, ds = tuple(map(str, names)), tuple(int(d) for d in ds)
    if not (len(ds) == len(sims) == len(odes)) or not ds:
        raise ValueError(f"need one simulation and one ODE per d, got {len(ds)} d, "
                         f"{len(sims)} simulations, {len(odes)} ODE solutions")
    if list(ds) != sorted(set(ds)):
        raise ValueError(f"ds must be distinct and increasing, got {ds}")
    rows = [sup_deviation(s, o) for s, o in zip(sims, odes, strict=True)]
    mean = np.stack([r[0] for r in rows])
    stderr = np.stack([r[1] for r in rows])
    if mean.shape[1] != len(names):
        raise ValueError(f"{len(names)} names for {mean.shape[1]} components")
    fits = []
    for i in range(len(names)):
        if len(ds) < 2 or not np.all(mean[:, i] > 0):
            fits.append(None)
            continue
        err = stderr[:, i] if np.all(stderr[:, i] > 0) else None
        fits.append(fit_exponent(ds, mean[:, i], err))
    return DeviationTable(names, ds, mean, stderr, tuple(fits))
