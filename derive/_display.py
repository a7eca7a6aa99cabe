"""Notebook display: HTML tables and LaTeX for the results (Jupyter's _repr_html_ and
_repr_latex_ protocol). Text only; nothing here computes."""

from __future__ import annotations

import html

import sympy as sp

__all__ = ["expansion_latex", "html_table"]


def html_table(header: list[str], rows: list[list], caption: str | None = None) -> str:
    """An HTML table with escaped cells."""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def expansion_latex(expansion) -> str:
    """f = sum_alpha c_alpha He_alpha(z) as display LaTeX (numeric coefficients as decimals,
    "+ ..." when the expansion is truncated)."""
    zs = expansion.target.variables
    terms = []
    for c in expansion.nonzero():
        coef = sp.latex(c.exact) if c.is_exact else f"{c.value:.6g}"
        he = r" ".join(rf"\mathrm{{He}}_{{{a}}}({sp.latex(z)})" for a, z in
                       zip(c.alpha, zs, strict=True) if a)
        if not he:
            terms.append(coef)
        elif coef == "1":
            terms.append(he)
        elif coef == "-1":
            terms.append("-" + he)
        else:
            wrap = c.is_exact and isinstance(c.exact, sp.Add)
            terms.append(rf"\left({coef}\right) {he}" if wrap else f"{coef}\\, {he}")
    body = " + ".join(terms).replace("+ -", "- ") if terms else "0"
    tail = "" if expansion.complete else r" + \dots"
    return rf"$\displaystyle {sp.latex(expansion.target.expr)} = {body}{tail}$"
