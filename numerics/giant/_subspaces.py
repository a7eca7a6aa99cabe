"""What one or a few giant steps learn, measured: the overlap of each predicted latent
direction with the span of the student's first-layer weights (docs/giant.md §1).

Prediction (escalier.derive, arXiv 2305.18270): one step on n = Theta(d^l) fresh samples
learns U*_l = sum_{k <= l} Im C_k; S steps on fresh batches of n = Theta(d^l) learn the
few-steps chain U_S (U_{t+1} = U_t + sum_{k <= l} Im T_k(U_t)). Measurement: the gram
engine (exact in law at any d, cost O(n)) runs GiantSteps(n = alpha d^l, steps = S) and, for
a unit latent direction u, the teacher-space vector v_u = W*^T u / sqrt(d) is projected on
the row span of W:

    overlap(u) = ||Proj_span(W) v_u||^2 / ||v_u||^2 = (M u)^T Q^{-1} (M u) / (u^T P u),

(Q = W W^T / d, M = W W*^T / d), 1 when v_u lies in the span, about p / d for a direction
the step did not see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Direction", "default_second_layer", "giant_step_lr", "predicted_directions",
           "shrinkage_exponent", "span_overlaps", "subspace_overlaps"]

_TOL = 1e-9


@dataclass(frozen=True)
class Direction:
    """A unit latent direction u (k,), whether the protocol is predicted to learn it, and
    the subspace that introduces it ("U*_2", "step 3", "complement") and, for a direction
    the student cannot learn, why (the vanishing Hermite coefficients)."""

    vector: np.ndarray
    predicted_learned: bool
    stage: str
    reason: str = ""


def _subspace_rows(space) -> np.ndarray:
    return np.array([[float(x) for x in b] for b in space.basis], dtype=float).reshape(
        -1, space.k)


def predicted_directions(target, l: int, steps: int = 1,
                         student: str | None = None) -> list[Direction]:
    """Every direction of the target's latent space, in the order of the predicted staircase.

    The learned subspace is U*_l for one step and the few-steps chain U_steps at batch
    exponent l otherwise (escalier.derive.exponents: GiantStep, FewSteps(l)). Directions are
    built by Gram-Schmidt over, in order: the learned filtration (U*_1, ..., U*_l for one
    step; U_1, ..., U_steps for several), then the later chain steps, the later U*_m, and the
    coordinate axes (the complement, never predicted). With a student, a direction is
    predicted learned only if the student-aware chain (FewSteps(l, student)) learns it
    within `steps` steps (one step: its first step, U*_l restricted to the orders the
    student sees); otherwise its `reason` names the vanishing coefficients.

    Raises:
        ValueError: l or steps not an integer >= 1, or a bad target.
    """
    from escalier.derive import exponents
    from escalier.derive.protocols import FewSteps

    for name, v in (("l (the batch exponent)", l), ("steps", steps)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    rep = exponents(target, alpha_c=False, protocols=[FewSteps(l=int(l))])
    student_rows, reason = None, ""
    if student is not None:
        srep = exponents(target, alpha_c=False, protocols=[FewSteps(l=int(l), student=student)])
        few = srep.protocols["few_steps"]
        schain = few.data["chains"][int(l)]
        done = schain[min(steps, len(schain)) - 1].after if schain else None
        student_rows = _orthonormal(_subspace_rows(done)) if done is not None and done.dim \
            else np.zeros((0, srep.protocols["giant_step"].start.k))
        block = few.data["blocked"].get(int(l))
        if block is not None and block["step"] <= steps:
            reason = f"step {block['step']}: {block['reason']}"
        else:
            reason = f"the student {student} does not see the terms that move the weights there"
    giant = rep.protocols["giant_step"].data["subspaces"]
    chain = [s.after for s in rep.protocols["few_steps"].data["chains"][int(l)]]
    k = rep.protocols["giant_step"].start.k
    if steps == 1:
        learned_stages = [(f"U*_{m + 1}", giant[min(m, len(giant) - 1)])
                          for m in range(min(l, len(giant)))]
    else:
        learned_stages = [(f"step {t + 1}", chain[t]) for t in range(min(steps, len(chain)))]
    learned = learned_stages[-1][1] if learned_stages else None
    later_chain = [(f"step {t + 1}", chain[t]) for t in range(steps, len(chain))]
    later_giant = [(f"U*_{m + 1}", g) for m, g in enumerate(giant)]
    later = (later_giant + later_chain if steps == 1 else later_chain + later_giant) + [
        ("complement", None)]
    learned_rows = _orthonormal(_subspace_rows(learned)) if learned is not None and \
        learned.dim else np.zeros((0, k))
    basis: list[np.ndarray] = []
    out: list[Direction] = []
    for stage, space in learned_stages + later:
        rows = np.eye(k) if space is None else _subspace_rows(space)
        for v in rows:
            r = v - sum((b @ v) * b for b in basis) if basis else v.copy()
            for b in basis:  # twice, for rounding
                r = r - (b @ r) * b
            nr = np.linalg.norm(r)
            if nr < 1e-8:
                continue
            u = r / nr
            u = u * (1.0 if u[np.argmax(np.abs(u))] > 0 else -1.0)
            basis.append(u)
            inside = float(np.sum((learned_rows @ u) ** 2)) if len(learned_rows) else 0.0
            learned_here = inside > 1 - 1e-6
            why = ""
            if learned_here and student_rows is not None:
                seen = float(np.sum((student_rows @ u) ** 2)) if len(student_rows) else 0.0
                if seen < 1 - 1e-6:
                    learned_here, why = False, reason
            out.append(Direction(u, learned_here, stage, why))
    return out


def _orthonormal(rows: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(rows.T)
    return q.T[: np.linalg.matrix_rank(rows)]


def span_overlaps(Q: np.ndarray, M: np.ndarray, P, directions: np.ndarray) -> np.ndarray:
    """overlap(u) = (M u)^T Q^{-1} (M u) / (u^T P u) for each seed and direction.

    Args:
        Q: (S, p, p) student overlaps; M: (S, p, k) student-teacher overlaps.
        P: (k, k) teacher overlaps W* W*^T / d.
        directions: (m, k) latent directions u.

    Returns:
        (S, m) squared norms of the projections of the unit teacher-space vectors v_u on the
        row span of W.
    """
    Q, M, P, U = (np.asarray(x, float) for x in (Q, M, P, directions))
    MU = np.einsum("spk,mk->smp", M, U)
    sol = np.linalg.solve(Q[:, None], MU[..., None])[..., 0]
    num = np.einsum("smp,smp->sm", MU, sol)
    den = np.einsum("mk,kj,mj->m", U, P, U)
    return num / den[None]


def default_second_layer(p: int) -> tuple[float, ...]:
    """a_j = (-1)^j (1 + floor(j / 2)) / ceil(p / 2): both signs and distinct magnitudes, so
    that the neurons' gradients differ (a common a_j makes every row move alike)."""
    h = math.ceil(p / 2)
    return tuple((-1.0) ** j * (1 + j // 2) / h for j in range(p))


def giant_step_lr(eta: float, d: int, l: int) -> float:
    """lr = eta d^((l + 1) / 2): the step's component along U*_l (of order
    lr d^(-l/2) in the weight, docs/giant.md) is then eta sqrt(d) times an O(1) number, the
    scale of the initial rows."""
    return float(eta) * float(d) ** ((l + 1) / 2)


def subspace_overlaps(target, *, d: int, l: int, alpha: float, steps: int = 1,
                      student: str = "relu", p: int = 4, eta: float = 10.0,
                      loss: str = "correlation", seeds: int = 16, seed: int = 0,
                      engine: str = "gram", directions: list[Direction] | None = None,
                      normalize_rows: bool = False, progress: bool = False) -> dict:
    """Run GiantSteps(n = round(alpha d^l), steps, lr = eta d^((l+1)/2)) from the random start
    and measure the overlap of every predicted direction with the student's weight span.

    Returns:
        JSON-ready dict: d, n, lr, "subspaces" (one entry per direction: direction,
        predicted_learned, stage, overlap (seed mean), overlap_stderr, chance = p / d).

    Raises:
        ValueError: bad settings (naming them) or a diverging run (lower eta).
    """
    from escalier.derive import Scenario
    from escalier.numerics.simulation import GiantSteps, simulate

    if not (isinstance(alpha, int | float) and math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    n = max(1, round(alpha * float(d) ** l))
    dirs = directions if directions is not None else predicted_directions(target, l, steps,
                                                                          student)
    sc = Scenario(target, student=student, p=p, loss=loss, a=default_second_layer(p))
    lr = giant_step_lr(eta, d, l)
    res = simulate(sc, d, 1.0, seeds=seeds, seed=seed, engine=engine,
                   protocol=GiantSteps(n=int(n), steps=steps, lr=lr,
                                       normalize_rows=normalize_rows), progress=progress)
    U = np.array([x.vector for x in dirs])
    ov = span_overlaps(res.Q[:, -1], res.M[:, -1], sc.P, U)
    if not np.all(np.isfinite(ov)):
        raise ValueError(f"non-finite overlaps at d = {d}: the weights degenerated; try a "
                         f"smaller --lr (eta = {eta:g})")
    mean = ov.mean(axis=0)
    se = ov.std(axis=0, ddof=1) / math.sqrt(seeds) if seeds > 1 else np.full_like(mean, np.nan)
    return {
        "d": int(d), "n": int(n), "lr": lr, "steps": int(steps), "l": int(l),
        "alpha": float(alpha), "seeds": int(seeds), "normalize_rows": bool(normalize_rows),
        "subspaces": [{"direction": [float(x) for x in u.vector],
                       "predicted_learned": bool(u.predicted_learned), "stage": u.stage,
                       **({"reason": u.reason} if u.reason else {}),
                       "overlap": float(m), "overlap_stderr": float(s),
                       "chance": min(1.0, p / d)}
                      for u, m, s in zip(dirs, mean, se, strict=True)],
    }


def shrinkage_exponent(ds, values, learned: bool) -> float | None:
    """Least-squares slope of log |overlap - limit| against log d, limit = 1 (learned) or 0:
    the finite-d correction ~ d^(-exponent) (None with fewer than two usable points)."""
    ds = np.asarray(ds, float)
    gap = np.abs(np.asarray(values, float) - (1.0 if learned else 0.0))
    ok = gap > 0
    if ok.sum() < 2:
        return None
    slope = np.polyfit(np.log(ds[ok]), np.log(gap[ok]), 1)[0]
    return float(-slope)
