"""The escape measure of a student row: the norm of its projection on the teacher subspace.

For a student row w (||w||^2 = d on the sphere) and teacher rows W* (k x d) with
W* W*^T / d = P, the orthogonal projection of w on span(W*) has squared norm, over d,

    |M_j.|_P^2 = M_j. P^+ M_j.^T,      M = W W*^T / d,

(P^+ the Moore-Penrose inverse: the projector on span(W*) is W*^T (W* W*^T)^+ W*). With
orthonormal teacher rows (P = I, the Scenario's default) this is the Euclidean norm
sqrt(sum_r M_jr^2); for k = 1 and P = 1 it is |m|, the single-index measure. It is the
cosine of the angle between w and the teacher subspace, so it does not depend on the basis
chosen for the teacher rows (z1, z2, z3 of z1*z2*z3 in any rotated frame give the same
value), unlike max_r |M_jr| or M_j1.

One function serves the event loop of the gram engine (jitted, JAX arrays) and
`escape_times` on recorded trajectories (NumPy arrays): it uses only operators that both
array types implement.
"""

from __future__ import annotations

import numpy as np

__all__ = ["subspace_metric", "teacher_projection"]


def subspace_metric(P) -> np.ndarray:
    """P^+ (k x k), the metric of `teacher_projection`, from the teacher overlaps P.

    Args:
        P: k x k teacher overlap matrix W* W*^T / d (symmetric positive semi-definite), or
            None for the identity of a 1-index teacher.

    Raises:
        ValueError: P not square, not symmetric, or with a negative eigenvalue.
    """
    P = np.ones((1, 1)) if P is None else np.atleast_2d(np.asarray(P, dtype=np.float64))
    if P.ndim != 2 or P.shape[0] != P.shape[1]:
        raise ValueError(f"P (teacher overlaps) must be a square k x k matrix, got shape "
                         f"{P.shape}")
    if not np.allclose(P, P.T, rtol=0, atol=1e-12):
        raise ValueError(f"P (teacher overlaps) must be symmetric, got {P.tolist()}")
    evals = np.linalg.eigvalsh(P)
    if evals.min() < -1e-12 * max(1.0, float(np.abs(evals).max())):
        raise ValueError(f"P (teacher overlaps) must be positive semi-definite, got "
                         f"eigenvalues {evals.tolist()}")
    if np.array_equal(P, np.eye(P.shape[0])):
        return np.eye(P.shape[0])  # exact: no rounding from the pseudo-inverse
    return np.linalg.pinv(P, hermitian=True)


def teacher_projection(M, metric):
    """|M_j.|_P = sqrt(M_j. P^+ M_j.^T): the norm of a student row's projection on the
    teacher subspace over sqrt(d) (module docstring).

    Args:
        M: (..., k) overlaps of one student row with the k teacher rows (NumPy or JAX).
        metric: P^+ from `subspace_metric` (k x k).

    Returns:
        (...) the projection norms (the array type of M).
    """
    return ((M @ metric) * M).sum(-1) ** 0.5
