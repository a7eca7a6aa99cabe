"""Training protocols as objects: what each learns about a target, and at what cost.

`PROTOCOLS` is the registry (name -> class), in the order `exponents()` analyses them.
Adding a protocol is one new module with a final `Protocol` subclass plus one line here
(docs/design.md, "Adding a protocol").
"""

from ._alpha_c import AlphaC as AlphaC
from ._alpha_c import alpha_c as alpha_c
from ._base import Analysis as Analysis
from ._base import Protocol as Protocol
from ._base import ProtocolResult as ProtocolResult
from ._base import staircase_graph as staircase_graph
from ._context import Context as Context
from ._step import Step as Step
from ._step import online_cost as online_cost
from .amp import Amp as Amp
from .few_steps import FewSteps as FewSteps
from .giant_step import GiantStep as GiantStep
from .online import Online as Online
from .reuse import Reuse as Reuse

PROTOCOLS: dict[str, type[Protocol]] = {
    "online": Online,
    "giant_step": GiantStep,
    "few_steps": FewSteps,
    "reuse": Reuse,
    "amp": Amp,
}
