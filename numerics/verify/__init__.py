"""Verification: simulations against their ODE, deviation tables, exponent fits, scaling laws."""

from ._compare import OdeFunctions as OdeFunctions
from ._compare import Verification as Verification
from ._compare import VerifyRun as VerifyRun
from ._compare import adaptive_ode as adaptive_ode
from ._compare import ode_functions as ode_functions
from ._compare import overlap_state as overlap_state
from ._compare import verify as verify
from ._deviation import DeviationTable as DeviationTable
from ._deviation import deviation_table as deviation_table
from ._deviation import sup_deviation as sup_deviation
from ._escape import EscapeScaling as EscapeScaling
from ._escape import escape_scaling as escape_scaling
from ._escape import protocol_predictions as protocol_predictions
from ._escape import reuse_lr as reuse_lr
from ._fit import ExponentFit as ExponentFit
from ._fit import fit_exponent as fit_exponent
from ._rates import best_lr as best_lr
from ._scaling import ScalingLaw as ScalingLaw
from ._scaling import escape_times as escape_times
from ._scaling import information_exponent as information_exponent
from ._scaling import scaling_law as scaling_law
