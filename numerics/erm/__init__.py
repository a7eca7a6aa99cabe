"""Empirical risk minimisation on Gaussian mixtures: replica fixed points, the Gaussian
equivalent, and the simulation twin (Loureiro et al., arXiv 2106.03791; Pesce et al.,
arXiv 2302.08923)."""

from ._curve import learning_curve as learning_curve
from ._losses import LOSSES as LOSSES
from ._losses import Hinge as Hinge
from ._losses import Logistic as Logistic
from ._losses import Loss as Loss
from ._losses import Square as Square
from ._mixture import MIXTURE_SPEC_HELP as MIXTURE_SPEC_HELP
from ._mixture import Mixture as Mixture
from ._mixture import mixture_from_spec as mixture_from_spec
from ._simulate import SimulationResult as SimulationResult
from ._simulate import fit_estimator as fit_estimator
from ._simulate import simulate_erm as simulate_erm
from ._state_evolution import FixedPoint as FixedPoint
from ._state_evolution import FixedPointError as FixedPointError
from ._state_evolution import errors_of_overlaps as errors_of_overlaps
from ._state_evolution import solve_fixed_point as solve_fixed_point
from ._teachers import TEACHER_SPEC_HELP as TEACHER_SPEC_HELP
from ._teachers import ClusterLabels as ClusterLabels
from ._teachers import LinearTeacher as LinearTeacher
from ._teachers import SignTeacher as SignTeacher
from ._teachers import Teacher as Teacher
from ._teachers import teacher_from_spec as teacher_from_spec
