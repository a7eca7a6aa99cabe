"""The displaced-step variants of both engines (`variant`): the low-level name of the
Extragradient and SAM protocols (engines/_reuse.py, `displacement`)."""

from __future__ import annotations

import math

__all__ = ["check_variant"]


def check_variant(variant: tuple, scenario) -> tuple:
    """The engines' variant, validated and normalised (("extragradient",) means probe 1):
    ("extragradient", probe > 0) or ("sam", rho > 0); SAM is not defined with the spherical
    projection, and neither displaced step with Scenario.tangent."""
    variant = tuple(variant)
    if not variant:
        return ()
    if variant == ("extragradient",):
        variant = ("extragradient", 1.0)
    ok = (len(variant) == 2 and variant[0] in ("extragradient", "sam")
          and isinstance(variant[1], int | float) and math.isfinite(variant[1])
          and variant[1] > 0)
    if not ok:
        raise ValueError(f"variant must be (), ('extragradient', probe > 0) or ('sam', rho > "
                         f"0), got {variant!r}")
    if variant[0] == "sam" and scenario.spherical:
        raise ValueError("sam steps are not defined with the spherical projection: use "
                         "spherical=False")
    if scenario.tangent:
        raise ValueError(f"{variant[0]} steps are not defined with tangent steps: use "
                         f"tangent=False")
    return (variant[0], float(variant[1]))
