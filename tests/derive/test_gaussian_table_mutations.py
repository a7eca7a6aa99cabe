"""The readable form of closed-form values: `canonical_form` and `small_rational`.

Both rewrite an expression into an equal one (the values are guarded by
tests/derive/test_gaussian_table.py against quadrature and Monte Carlo). What they promise
is the form: the radicands of half-integer powers and the arguments of asin and acos come
out as reduced fractions, and a small function-free sum comes out expanded when that is
shorter. Mutation testing (docs/mutation.md) found that no test looked at the form: a
`canonical_form` that did nothing, or a `small_rational` without its size cap, passed. The
expected forms below are worked out by hand: Q (Q + 1) - Q^2 = Q and
(Q + 1)^2 - Q^2 = 2 Q + 1.
"""

import sympy as sp

from escalier.derive.gaussian._table import SMALL, canonical_form, small_rational

Q, R = sp.symbols("Q R")
FOLDS_TO_Q = Q * (Q + 1) - Q**2  # SymPy keeps it unexpanded; equals Q


def _nodes(e):
    # the size measure of the docstrings ("nodes of its tree")
    return sum(1 for _ in sp.preorder_traversal(e))


def test_canonical_form_reduces_radicands_and_inverse_trig_arguments():
    assert FOLDS_TO_Q != Q  # the input is not already reduced
    assert canonical_form(sp.sqrt(FOLDS_TO_Q)) == sp.sqrt(Q)
    assert canonical_form(sp.Pow(FOLDS_TO_Q, sp.Rational(3, 2))) == Q ** sp.Rational(3, 2)
    # asin / acos: their arguments are reduced, also when they hold no power at all
    # (Q (R + 1) - Q R = Q is a sum of products)
    assert canonical_form(sp.asin(FOLDS_TO_Q)) == sp.asin(Q)
    assert canonical_form(sp.acos(FOLDS_TO_Q)) == sp.acos(Q)
    no_power = Q * (R + 1) - Q * R
    assert not no_power.has(sp.Pow) and no_power != Q
    assert canonical_form(sp.asin(no_power)) == sp.asin(Q)
    assert canonical_form(sp.acos(no_power)) == sp.acos(Q)
    # nested and repeated sub-expressions (the walk's memo)
    both = sp.asin(FOLDS_TO_Q) + sp.sqrt(FOLDS_TO_Q) * sp.asin(FOLDS_TO_Q)
    assert canonical_form(both) == sp.asin(Q) + sp.sqrt(Q) * sp.asin(Q)
    # only square-root-type powers and inverse trig arguments are touched: integer and
    # cube-root powers keep their base as it is (no branch or form is chosen for them)
    assert canonical_form(FOLDS_TO_Q**3) == FOLDS_TO_Q**3
    cube = sp.Pow(FOLDS_TO_Q, sp.Rational(1, 3))
    assert canonical_form(cube) == cube
    # and a symbol or number comes back as it is
    assert canonical_form(Q) == Q and canonical_form(sp.Integer(3)) == 3


def test_small_rational_expands_small_function_free_sums():
    assert small_rational(FOLDS_TO_Q) == Q
    assert small_rational((Q + 1) ** 2 - Q**2) == 2 * Q + 1  # integer powers are fine
    # not a sum: unchanged (a product is not expanded even when small)
    prod = sp.Mul(Q + 1, Q - 1, evaluate=False)
    assert small_rational(prod) == prod and small_rational(prod).is_Mul
    # functions and radicals: left alone (the rewrite would cost more than it saves)
    with_erf = sp.erf(Q) * (Q + 1) - Q * sp.erf(Q)
    assert small_rational(with_erf) == with_erf and with_erf != sp.erf(Q)
    with_sqrt = sp.sqrt(Q) * (Q + 1) - Q * sp.sqrt(Q)
    assert small_rational(with_sqrt) == with_sqrt


def test_small_rational_size_cap_is_inclusive():
    # Q (Q + 1) - Q^2 + R (R + 1) - R^2 + c Q R: 5 + 5 + 5 + 5 nodes for the four folding
    # terms, 3 for Q R (4 for 2 Q R), 1 for the sum: 24 and 25 nodes
    at_cap = FOLDS_TO_Q + R * (R + 1) - R**2 + Q * R
    above = FOLDS_TO_Q + R * (R + 1) - R**2 + 2 * Q * R
    assert (_nodes(at_cap), _nodes(above)) == (SMALL, SMALL + 1) == (24, 25)
    assert small_rational(at_cap) == Q * R + Q + R
    assert small_rational(above) == above  # one node too many: left alone
