"""Certificates that a conditional moment vanishes identically, or an honest "not found".

For a learned subspace U and an order k, the claim is E[g(y) He_k(z_perp) | z_U] = 0 for the
label functions g of the protocol: g(y) = y for online SGD and one giant step (the tensor
T_k(U) is linear in f), every g for batch reuse (E[He_k(z_perp) | y, z_U] = 0). In order:

1. exact zero: the test family is finite and exactly computed — online with a complete
   (polynomial) expansion, or U = {0} with exact coefficients of degree k, or a label with
   finitely many values n, whose centred powers 1..n-1 span every function of y;
2. symmetry: signed permutations fixing U pointwise leave no non-zero admissible tensor
   (see _symmetry);
3. otherwise "not found up to degree D (label powers m <= M)": not a proof.
"""

from __future__ import annotations

from ..algebra import Subspace
from ._context import Context
from ._symmetry import symmetric_tensor_space_dim

__all__ = ["certify_vanishing"]


def _exact_degree_zero(ctx: Context, m: int, k: int) -> bool:
    """All coefficients of y~^m of total degree k are exact zeros (not numerical)."""
    lp = ctx.power(m)
    if lp.expansion is None:
        return lp.complete and lp.scalars.is_exact
    for c in lp.expansion.coefficients.values():
        proved = c.is_zero and c.status.startswith(("zero (exact", "zero (parity"))
        if c.degree == k and not proved:
            return False
    return k <= lp.expansion.max_degree


def certify_vanishing(ctx: Context, U: Subspace, perp: Subspace, k: int,
                      protocol: str) -> tuple[bool, str]:
    """Why E[g(y) He_k(z_perp) | z_U] = 0 for the protocol's label functions g.

    Args:
        ctx: the target context.
        U, perp: the learned subspace and its complement.
        k: the order.
        protocol: "online" (g(y) = y) or "reuse" (every g).

    Returns:
        (certified, text).
    """
    if protocol == "online":
        powers = [1]
        parities = [1]
        finite = True
    else:
        finite = ctx.finite_family
        powers = list(range(1, ctx.max_power + 1))
        parities = [1] if finite and ctx.max_power == 1 else [1, 0]
    if finite:
        lps = [ctx.power(m) for m in powers]
        family = ("y" if protocol == "online" else
                  f"y~^m, m <= {ctx.max_power} (y takes the values "
                  f"{', '.join(map(str, ctx.values))}, so these span every function of y)")
        if all(lp.complete and lp.scalars.is_exact for lp in lps):
            return True, (f"order {k}: exact zero (complete expansion of {family}: every "
                          f"coefficient with |alpha_perp| = {k} is exactly 0)")
        if U.dim == 0 and all(_exact_degree_zero(ctx, m, k) for m in powers):
            test = "y" if protocol == "online" else "y~^m"
            return True, (f"order {k}: exact zero (E[{test} He_{k}(z)] = 0 coefficient by "
                          f"coefficient, exact or by parity"
                          + ("" if protocol == "online" else f"; {family}") + ")")
    dims = []
    used = []
    for parity in parities:
        d, u = symmetric_tensor_space_dim(ctx.symmetries, U, perp, k, parity)
        dims.append(d)
        used = u
    if used and all(d == 0 for d in dims):
        shown = "; ".join(str(S) for S in used[:4]) + (" ..." if len(used) > 4 else "")
        what = "E[y He_k(z_perp) | z_U]" if protocol == "online" else \
            "E[He_k(z_perp) | y, z_U]"
        what = what.replace("He_k", f"He_{k}")
        return True, (f"order {k}: symmetry ({what} = 0: the signed permutations "
                      f"{shown} fix U and admit no non-zero tensor)")
    lp = ctx.power(1)
    if protocol == "online":
        where = f"degree {lp.degree}"
    else:
        deg = ctx.max_degree if not ctx.polynomial else "all"
        where = f"degree {deg}, label powers m <= {ctx.max_power}"
    kind = "numerically zero" if lp.scalars.kind == "float" else "not found"
    return False, f"order {k}: {kind} up to {where} (not a proof of vanishing)"
