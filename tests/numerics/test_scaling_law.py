"""The escape-time law in the default suite: d log d (information exponent 2) is told apart
from d (issue 21, section 2).

He2 with a He2 student, spherical online SGD, correlation loss, a fixed rate lr0 = 0.08 (no
prefactor search), exact gram engine (cost per step independent of d), d = 128 and 4096,
32 seeds each. With information exponent 2 the overlap grows like m0 e^{c t} from
m0 ~ N(0, 1/d), so t = steps / d grows like log(threshold sqrt(d)) / c: steps ~ d log d,
a log-log slope of 1.156 over this range (the small-overlap diffusion's finite-d
prediction, 1.158, includes the constant beside log d). The fitted slope has a standard
error of about 0.026, so the gap to the linear law (0.156) is about 6 standard errors.
Tolerance: 4 standard errors for agreement (false failure ~6e-5 under the normal
approximation of the fit; the seed is fixed, so a pass is reproducible).
"""

from escalier.numerics.verify import escape_scaling


def test_he2_escape_is_d_log_d_not_d():
    r = escape_scaling("He2(z1)", ds=(128, 4096), seeds=32, engine="gram", lr0=0.08)
    assert r.law.l == 2 and r.fit is not None
    err = r.fit.stderr
    assert err < 0.04  # enough seeds to resolve the gap between the laws
    assert abs(r.fit.exponent - r.diffusion_exponent) < 4 * err
    assert abs(r.fit.exponent - r.predicted) < 4 * err
    # the linear law (steps ~ d, slope 1) is rejected
    assert r.fit.exponent - 1 > 4 * err
