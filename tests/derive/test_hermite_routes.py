"""The Stein route of the univariate Hermite moments on an even function with erf (issue 21,
section 3: a mutant of derive/hermite/_univariate.py that took every even g for odd, i.e.
E[g] = 0, survived the suite)."""

import math

from escalier.derive import hermite_expansion


def test_even_function_with_erf_has_its_mean():
    # g(z) = z erf(z), even. Stein (E[z f(z)] = E[f'(z)]) and E[exp(-a z^2)] = (1+2a)^(-1/2):
    # c_0 = E[z erf(z)] = (2/sqrt(pi)) E[exp(-z^2)] = 2 / sqrt(3 pi);
    # E[z^3 erf] = E[2 z erf + z^2 erf'] = 4/sqrt(3 pi) + (2/sqrt(pi)) 3^(-3/2), so
    # c_2 = E[(z^3 - z) erf] / 2! = 4 / (3 sqrt(3 pi)). Odd coefficients vanish by parity.
    e = hermite_expansion("z1*erf(z1)", 4)
    assert abs(float(e[(0,)].value) - 2 / math.sqrt(3 * math.pi)) < 1e-9
    assert abs(float(e[(2,)].value) - 4 / (3 * math.sqrt(3 * math.pi))) < 1e-9
    assert e[(1,)].is_zero and e[(3,)].is_zero
