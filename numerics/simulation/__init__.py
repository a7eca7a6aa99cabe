"""Simulations of the real two-layer network: engines (full d-dimensional, exact Gram chain)
as objects, training protocols and stop conditions, one `simulate` entry point."""

from ._api import DTYPES as DTYPES
from ._api import resolve_engine as resolve_engine
from ._api import simulate as simulate
from ._blocks import DIVERGENCE_BOUND as DIVERGENCE_BOUND
from ._escape import gram_escape_steps as gram_escape_steps
from ._full_giant import giant_step_weights as giant_step_weights
from ._gram_giant import giant_step as giant_step
from ._init import initial_weights as initial_weights
from ._result import SimulationResult as SimulationResult
from ._subspace import subspace_metric as subspace_metric
from ._subspace import teacher_projection as teacher_projection
from .engines import ENGINES as ENGINES
from .engines import SAM as SAM
from .engines import AdaptiveLoss as AdaptiveLoss
from .engines import Constant as Constant
from .engines import Engine as Engine
from .engines import EscapeThreshold as EscapeThreshold
from .engines import Extragradient as Extragradient
from .engines import FullEngine as FullEngine
from .engines import GiantSteps as GiantSteps
from .engines import GramEngine as GramEngine
from .engines import Horizon as Horizon
from .engines import MultiPass as MultiPass
from .engines import OnlineSGD as OnlineSGD
from .engines import PowerLaw as PowerLaw
from .engines import Schedule as Schedule
from .engines import StepDecay as StepDecay
from .engines import StepsPerBatch as StepsPerBatch
from .engines import StopCondition as StopCondition
from .engines import TrainingProtocol as TrainingProtocol
from .engines import check_schedule as check_schedule
