"""Sum-of-squares lower bounds: the SDP (cvxpy), its checks, minimisers, population risks."""

from ._sdp import SOLVERS as SOLVERS
from ._sdp import SosResult as SosResult
from ._sdp import sos_lower_bound as sos_lower_bound
