"""The square-loss UFM: closed form (escalier.derive.collapse) against L-BFGS training."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from escalier.derive.collapse import UfmOptimum, block_names, ufm_optimum

from ._ufm import UfmTraining, block_hessians, train_ufm, ufm_targets

__all__ = ["UfmComparison", "compare_ufm"]


@dataclass(frozen=True)
class UfmComparison:
    """Closed form and training side by side.

    at_optimum: restarts whose loss is within `rtol` (relative) of the closed-form loss.
    hessian_measured: eigenvalues (ascending) of each block Hessian at the best restart, by
    jax.hessian (numerical, float64).
    """

    optimum: UfmOptimum
    training: UfmTraining
    rtol: float
    at_optimum: np.ndarray
    hessian_measured: list[np.ndarray] = field(repr=False)

    def outliers_measured(self, i: int) -> np.ndarray:
        """Eigenvalues of block i above the weight-decay level (descending)."""
        ev = self.hessian_measured[i]
        lam = self.training.weight_decay
        return np.sort(ev[ev - lam > 1e-6 * max(1.0, float(ev.max()))])[::-1]

    def others(self) -> list[dict]:
        """The restarts that missed the optimum: loss, product rank, and the closed-form loss
        of the critical point with that many directions at s and the rest at 0."""
        out = []
        for i in np.flatnonzero(~self.at_optimum):
            r = int(self.training.product_ranks[i])
            out.append({"restart": int(i), "loss": float(self.training.losses[i]), "rank": r,
                        "loss_of_rank": float(self.optimum.loss_of_rank(min(r, self.optimum.K)))})
        return out

    def to_json(self) -> dict:
        o, t = self.optimum, self.training
        names = block_names(o.L)
        b = t.best
        return {
            "setting": {"K": o.K, "L": o.L, "width": t.width, "n": o.n,
                        "weight_decay": t.weight_decay, "restarts": int(t.losses.size),
                        "seed": t.seed, "loss": "mse"},
            "loss_closed_form": float(o.loss),
            "loss_trained": float(t.losses[b]),
            "loss_relative_error": float(abs(t.losses[b] - float(o.loss)) / float(o.loss)),
            "restarts_at_optimum": int(self.at_optimum.sum()),
            "restart_rtol": self.rtol,
            "other_restarts": self.others(),
            "restart_losses": t.losses.tolist(),
            "lambda_threshold": float(o.threshold),
            "s": float(o.s), "s_exact": str(o.s), "roots": [float(r) for r in o.roots],
            "singular_values": {n: [float(v) for v in sv]
                                for n, sv in zip(names, o.singular_values(), strict=True)},
            "singular_values_trained": {n: t.singular_values[b, i].tolist()
                                        for i, n in enumerate(names)},
            "hessian": {n: {"rank": h.rank,
                            "outliers": [] if h.outlier is None else [float(h.outlier)] * h.rank,
                            "outliers_measured": self.outliers_measured(i).tolist(),
                            "rank_measured": int(self.outliers_measured(i).size),
                            "bulk": float(h.bulk), "size": int(self.hessian_measured[i].size)}
                        for i, (n, h) in enumerate(zip(names, o.hessian, strict=True))},
        }

    def to_text(self) -> str:
        j = self.to_json()
        o = self.optimum
        lines = [f"deep linear UFM, square loss: K = {o.K}, L = {o.L}, width = "
                 f"{self.training.width}, n = {o.n}, lambda = {self.training.weight_decay:g}",
                 f"  singular value of every factor (closed form): s = {j['s']:.12g}"
                 f"  [{j['s_exact']}]",
                 f"  lambda threshold (zero solution above): {j['lambda_threshold']:.6g}",
                 f"  loss: closed form {j['loss_closed_form']:.12g}, trained (best) "
                 f"{j['loss_trained']:.12g}, relative error {j['loss_relative_error']:.1e}",
                 f"  restarts at the optimum: {j['restarts_at_optimum']} / "
                 f"{j['setting']['restarts']} (loss within {self.rtol:g} relative)"]
        for other in j["other_restarts"]:
            lines.append(f"    restart {other['restart']}: loss {other['loss']:.10g}, product "
                         f"rank {other['rank']} (closed-form rank-{other['rank']} critical "
                         f"point: {other['loss_of_rank']:.10g})")
        lines.append(f"  {'block':<6} {'size':>6} {'rank':>5} {'measured':>8} "
                     f"{'outlier (closed form)':>22} {'measured min..max':>28}")
        for name, h in j["hessian"].items():
            meas = h["outliers_measured"]
            rng = f"{min(meas):.10g}..{max(meas):.10g}" if meas else "-"
            outl = f"{h['outliers'][0]:.10g}" if h["outliers"] else "-"
            lines.append(f"  {name:<6} {h['size']:>6} {h['rank']:>5} {h['rank_measured']:>8} "
                         f"{outl:>22} {rng:>28}")
        lines.append(f"  bulk of every block at lambda = {self.training.weight_decay:g}")
        return "\n".join(lines)


def compare_ufm(K: int, L: int, width: int, n: int, weight_decay: float, *, restarts: int = 40,
                seed: int = 0, init_scale: float = 1.0, rtol: float = 1e-6,
                max_iter: int = 5000) -> UfmComparison:
    """Closed-form optimum, `restarts` L-BFGS runs, and the block Hessians at the best one.

    Raises ValueError on bad settings (see ufm_optimum and train_ufm).
    """
    opt = ufm_optimum(K, L, n, weight_decay, width=width)
    tr = train_ufm(K, L, width, n, weight_decay, restarts=restarts, seed=seed,
                   init_scale=init_scale, max_iter=max_iter)
    loss = float(opt.loss)
    at = np.abs(tr.losses - loss) <= rtol * loss
    hess = [np.linalg.eigvalsh(h) for h in
            block_hessians(tr.params_of(tr.best), ufm_targets(K, n), weight_decay)]
    return UfmComparison(optimum=opt, training=tr, rtol=rtol, at_optimum=at, hessian_measured=hess)
