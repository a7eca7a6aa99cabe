"""Ridge regression on isotropic Gaussian data, solved in closed form from its fixed point.

x ~ N(0, I_d), y = theta.x / sqrt d + sqrt(Delta) xi with ||theta||^2 = d, estimator
argmin sum (y - w.x/sqrt d)^2 / 2 + lambda ||w||^2 / 2 at n = alpha d. The replica fixed point
(Loureiro et al., arXiv 2106.03791, specialised to one cluster, the square loss and Sigma = I)
reads Vhat = mhat = alpha / (1 + V), qhat = alpha (1 + q - 2m + Delta) / (1 + V)^2 and
V = 1 / (lambda + Vhat), m = mhat V, q = (mhat^2 + qhat) V^2. Eliminating the hats:

    lambda V^2 + (lambda + alpha - 1) V - 1 = 0          (V > 0 the positive root)
    m = alpha V / (1 + V)
    q (1 / V^2 - alpha / (1 + V)^2) = alpha (alpha + 1 - 2m + Delta) / (1 + V)^2
    test error  E(y - yhat)^2 = 1 - 2m + q + Delta,  training error = test error / (1 + V)^2.

As lambda -> 0+ with alpha > 1 the training error tends to Delta (1 - 1/alpha) (least squares;
Pesce et al., arXiv 2302.08923, state it for any full-rank design).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

__all__ = ["RidgeClosedForm", "ridge_isotropic"]


@dataclasses.dataclass(frozen=True)
class RidgeClosedForm:
    """SymPy expressions in the symbols alpha, lam, Delta (all positive)."""

    alpha: sp.Symbol
    lam: sp.Symbol
    Delta: sp.Symbol
    V: sp.Expr
    m: sp.Expr
    q: sp.Expr
    test_error: sp.Expr
    train_error: sp.Expr

    def evaluate(self, alpha, lam, Delta, digits: int = 30) -> dict[str, sp.Float]:
        """The five quantities at numbers (exact rationals welcome), to `digits` digits."""
        subs = {self.alpha: sp.nsimplify(alpha), self.lam: sp.nsimplify(lam),
                self.Delta: sp.nsimplify(Delta)}
        return {name: sp.N(getattr(self, name).subs(subs), digits)
                for name in ("V", "m", "q", "test_error", "train_error")}

    def least_squares_train_error(self) -> sp.Expr:
        """lim_{lambda -> 0+} of the training error, for alpha > 1 (simplified)."""
        a = sp.Symbol("alpha", positive=True)
        expr = self.train_error.subs(self.alpha, a + 1)  # alpha = a + 1 > 1
        return sp.simplify(sp.limit(expr, self.lam, 0, "+").subs(a, self.alpha - 1))


def ridge_isotropic() -> RidgeClosedForm:
    """The closed form above (exact SymPy expressions)."""
    alpha, lam, Delta = sp.symbols("alpha lambda Delta", positive=True)
    V = (-(lam + alpha - 1) + sp.sqrt((lam + alpha - 1) ** 2 + 4 * lam)) / (2 * lam)
    m = alpha * V / (1 + V)
    q = (alpha * (alpha + 1 - 2 * m + Delta) / (1 + V) ** 2) / (1 / V**2 - alpha / (1 + V) ** 2)
    test = 1 - 2 * m + q + Delta
    return RidgeClosedForm(alpha, lam, Delta, V, m, q, test, test / (1 + V) ** 2)
