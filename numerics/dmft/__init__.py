"""Dynamical mean-field theory of multi-pass gradient descent (docs/reuse.md): the theory
twin of `MultiPass` simulations, as the overlap ODE is of online SGD."""

from ._plot import plot_dmft as plot_dmft
from ._solve import DmftNotConverged as DmftNotConverged
from ._solve import DmftSolution as DmftSolution
from ._solve import dmft_kernels as dmft_kernels
from ._solve import simulate_matched as simulate_matched
from ._solve import solve_dmft as solve_dmft
