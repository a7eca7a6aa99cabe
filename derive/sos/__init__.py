"""Sum-of-squares certificates, the exact half: polynomials over QQ, Gram bases, exact checks."""

from ._certificate import ExactCertificate as ExactCertificate
from ._certificate import exact_psd as exact_psd
from ._certificate import rationalise as rationalise
from ._certificate import round_certificate as round_certificate
from ._polynomial import monomial_basis as monomial_basis
from ._polynomial import parse_polynomial as parse_polynomial
from ._polynomial import sos_target as sos_target
from ._polynomial import unbounded_below as unbounded_below
