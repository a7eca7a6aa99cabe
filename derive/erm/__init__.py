"""Closed forms of empirical risk minimisation (SymPy): ridge on isotropic Gaussian data."""

from ._ridge import RidgeClosedForm as RidgeClosedForm
from ._ridge import ridge_isotropic as ridge_isotropic
