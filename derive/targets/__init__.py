"""Targets: the target language (Target, parsing, the functions it accepts) and a small
library of named targets (hermite, staircase, parity, committee, the hierarchical sight/might)."""

from ._functions import FUNCTIONS as FUNCTIONS
from ._functions import hermite_he as hermite_he
from ._hierarchical import Hierarchical as Hierarchical
from ._hierarchical import might as might
from ._hierarchical import sight as sight
from ._library import committee as committee
from ._library import hermite as hermite
from ._library import parity as parity
from ._library import staircase as staircase
from ._target import Target as Target
from ._target import latent as latent
from ._target import parameter as parameter
