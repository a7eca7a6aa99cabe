"""ODE integration (diffrax, adaptive, float64) with threshold-crossing events."""

from ._result import IntegrationError as IntegrationError
from ._result import OdeSolution as OdeSolution
from ._solve import SOLVERS as SOLVERS
from ._solve import Crossing as Crossing
from ._solve import integrate as integrate
from ._wide import WideTrajectory as WideTrajectory
from ._wide import wide_trajectory as wide_trajectory
