"""Simulation engines as objects: the abstract Engine, FullEngine and GramEngine (one module
each), the training protocols and stop conditions they run. `ENGINES` (name -> class) is the
registry the command line reads; adding an engine is one module plus one line here."""

from ._adaptive import AdaptiveLoss as AdaptiveLoss
from ._base import Engine as Engine
from ._base import EscapeThreshold as EscapeThreshold
from ._base import Horizon as Horizon
from ._base import OnlineSGD as OnlineSGD
from ._base import StepsPerBatch as StepsPerBatch
from ._base import StopCondition as StopCondition
from ._base import TrainingProtocol as TrainingProtocol
from ._giant import GiantSteps as GiantSteps
from ._reuse import SAM as SAM
from ._reuse import Extragradient as Extragradient
from ._reuse import MultiPass as MultiPass
from ._schedule import Constant as Constant
from ._schedule import PowerLaw as PowerLaw
from ._schedule import Schedule as Schedule
from ._schedule import StepDecay as StepDecay
from ._schedule import check_schedule as check_schedule
from .full import FullEngine as FullEngine
from .gram import GramEngine as GramEngine

ENGINES: dict[str, type[Engine]] = {
    "full": FullEngine,
    "gram": GramEngine,
}
