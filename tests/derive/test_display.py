"""Notebook display of the results (_repr_latex_, _repr_html_): formulas and tables a
theorist reads in Jupyter, checked against the expansions they print."""

import sympy as sp

from escalier.derive import exponents, hermite_expansion, ode_system


def test_expansion_latex_is_the_expansion():
    e = hermite_expansion("He3(z1) - 2*z1*z2 + 1/3", 4)
    tex = e._repr_latex_()
    assert tex.startswith("$\\displaystyle") and tex.endswith("$")
    body = tex.split("=", 1)[1]
    assert r"\mathrm{He}_{3}(z_{1})" in body
    assert r"- 2\, \mathrm{He}_{1}(z_{1}) \mathrm{He}_{1}(z_{2})" in body
    assert r"\frac{1}{3}" in body and r"\dots" not in body  # complete: f is this polynomial
    trunc = hermite_expansion("tanh(z1)", 3)._repr_latex_()
    assert trunc.rstrip("$").endswith(r"+ \dots") and "0.6" in trunc  # c1 = 0.6057 (numeric)


def test_expansion_html_lists_the_nonzero_coefficients():
    html = hermite_expansion("z1*z2 + He2(z1)", 3)._repr_html_()
    assert html.count("<tr>") == 1 + 2  # header + (1, 1) and (2, 0)
    assert "(1, 1)" in html and "(2, 0)" in html and "(0, 2)" not in html


def test_report_html_and_ode_latex():
    r = exponents("He3(z1)", alpha_c=False)
    html = r._repr_html_()
    assert "leap (online staircase)</td><td>3</td><td>True</td><td>d^2" in html
    s = ode_system("He2(z1)", student="erf", p=1)
    tex = s._repr_latex_()
    assert tex.startswith("$$\\begin{aligned}") and tex.count("\\frac{d") == len(s.state)
    assert sp.latex(s.state[0]) in tex
