"""Power-law fits y ~ C x^beta in log-log coordinates, with the standard error of beta."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ExponentFit", "fit_exponent"]


@dataclass(frozen=True)
class ExponentFit:
    """log y = log C + beta log x, fitted by (weighted) least squares.

    Attributes:
        exponent: beta.
        stderr: its standard error (from the given y errors when there are any, otherwise
            from the residuals; nan with two points and no errors).
        prefactor: C.
        n_points: number of (x, y) pairs used.
    """

    exponent: float
    stderr: float
    prefactor: float
    n_points: int

    def __str__(self) -> str:
        return f"{self.exponent:+.3f} +- {self.stderr:.3f}"

    def to_json(self) -> dict:
        return {"exponent": self.exponent, "stderr": self.stderr,
                "prefactor": self.prefactor, "n_points": self.n_points}


def fit_exponent(x, y, yerr=None) -> ExponentFit:
    """Fit y = C x^beta: least squares of log y on log x.

    With standard errors yerr of y, each point has weight 1 / (yerr / y)^2 (the delta
    method: sd(log y) ~= yerr / y) and the slope's standard error comes from those weights
    (sqrt of the (1, 1) entry of (X^T W X)^{-1}); without them, from the residual variance
    with n - 2 degrees of freedom.

    Args:
        x, y: positive arrays of the same length >= 2 (x not all equal).
        yerr: optional positive standard errors of y.

    Returns:
        ExponentFit.

    Raises:
        ValueError: fewer than 2 points, non-positive or non-finite values.
    """
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"need x and y of the same length >= 2, got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0)
            and np.all(y > 0)):
        raise ValueError(f"a power-law fit needs finite positive values, got x={x}, y={y}")
    if np.ptp(np.log(x)) == 0:
        raise ValueError(f"x must take at least two distinct values, got {x}")
    X = np.stack([np.ones_like(x), np.log(x)], axis=1)
    ly = np.log(y)
    if yerr is not None:
        yerr = np.asarray(yerr, dtype=float).ravel()
        if yerr.shape != y.shape or not np.all(np.isfinite(yerr)) or not np.all(yerr > 0):
            raise ValueError(f"yerr must be finite, positive and match y, got {yerr}")
        w = (y / yerr) ** 2
    else:
        w = np.ones_like(y)
    A = X.T @ (w[:, None] * X)
    coef = np.linalg.solve(A, X.T @ (w * ly))
    cov = np.linalg.inv(A)
    if yerr is None:
        dof = x.size - 2
        resid = ly - X @ coef
        cov = cov * (resid @ resid / dof) if dof > 0 else cov * math.nan
    return ExponentFit(float(coef[1]), float(math.sqrt(cov[1, 1])), float(math.exp(coef[0])),
                       int(x.size))
