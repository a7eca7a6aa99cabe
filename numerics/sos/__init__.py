"""Sum-of-squares lower bounds: the SDP (cvxpy), its checks, minimisers, population risks."""

from ._putinar import sos_lower_bound_on as sos_lower_bound_on
from ._risk import FixedPoint as FixedPoint
from ._risk import RiskCertificate as RiskCertificate
from ._risk import RiskPolynomial as RiskPolynomial
from ._risk import certify_risk as certify_risk
from ._risk import ode_fixed_points as ode_fixed_points
from ._risk import risk_polynomial as risk_polynomial
from ._sdp import SOLVERS as SOLVERS
from ._sdp import SosResult as SosResult
from ._sdp import sos_lower_bound as sos_lower_bound
