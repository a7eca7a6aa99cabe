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
    """SymPy expressions: V in alpha, lam, Delta (all positive); m, q and the errors in alpha,
    Delta and the symbol v standing for V."""

    alpha: sp.Symbol
    lam: sp.Symbol
    Delta: sp.Symbol
    V: sp.Expr
    m: sp.Expr
    q: sp.Expr
    test_error: sp.Expr
    train_error: sp.Expr
    v: sp.Symbol  # m, q, test_error, train_error are written in this symbol; V(lambda) fills it

    def evaluate(self, alpha, lam, Delta, digits: int = 30) -> dict[str, sp.Float]:
        """The five quantities at numbers (exact rationals welcome), to `digits` digits."""
        subs = {self.alpha: sp.nsimplify(alpha), self.lam: sp.nsimplify(lam),
                self.Delta: sp.nsimplify(Delta)}
        subs[self.v] = self.V.subs(subs)
        out = {"V": sp.N(subs[self.v], digits)}
        out.update({name: sp.N(getattr(self, name).subs(subs), digits)
                    for name in ("m", "q", "test_error", "train_error")})
        return out

    def least_squares_train_error(self) -> sp.Expr:
        """lim_{lambda -> 0+} of the training error, for alpha > 1 (simplified).

        lambda enters only through V, whose limit is 1 / (alpha - 1); the training error is a
        rational function of V, continuous there (its denominator
        1/V^2 - alpha/(1+V)^2 = (alpha - 1)^2 (1 - 1/alpha) is not 0), so the limit is its
        value at that V.
        """
        a = sp.Symbol("a", positive=True)  # alpha = a + 1 > 1
        v0 = sp.simplify(sp.limit(self.V.subs(self.alpha, a + 1), self.lam, 0, "+"))
        v0 = v0.subs(a, self.alpha - 1)
        assert self.lam not in self.train_error.free_symbols
        return sp.simplify(sp.factor(sp.together(self.train_error.subs(self.v, v0))))


def ridge_isotropic() -> RidgeClosedForm:
    """The closed form above (exact SymPy expressions)."""
    alpha, lam, Delta = sp.symbols("alpha lambda Delta", positive=True)
    v = sp.Symbol("V", positive=True)  # m, q and the errors are functions of V alone
    V = (-(lam + alpha - 1) + sp.sqrt((lam + alpha - 1) ** 2 + 4 * lam)) / (2 * lam)
    m = alpha * v / (1 + v)
    q = (alpha * (alpha + 1 - 2 * m + Delta) / (1 + v) ** 2) / (1 / v**2 - alpha / (1 + v) ** 2)
    test = 1 - 2 * m + q + Delta
    train = test / (1 + v) ** 2
    return RidgeClosedForm(alpha, lam, Delta, V, m, q, test, train, v)
