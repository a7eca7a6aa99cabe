"""Loss landscapes measured: p-spin critical points, Hessian spectra, level-spacing ratios."""

from ._pspin import CriticalPoints as CriticalPoints
from ._pspin import coupling_bytes as coupling_bytes
from ._pspin import energy as energy
from ._pspin import find_critical_points as find_critical_points
from ._pspin import riemannian_gradient as riemannian_gradient
from ._pspin import riemannian_hessian as riemannian_hessian
from ._pspin import sample_couplings as sample_couplings
from ._pspin import search_bytes as search_bytes
from ._pspin import symmetrize as symmetrize
from ._pspin import tangent_basis as tangent_basis
from ._spectra import R_GOE as R_GOE
from ._spectra import R_GOE_SURMISE as R_GOE_SURMISE
from ._spectra import R_POISSON as R_POISSON
from ._spectra import SpacingRatio as SpacingRatio
from ._spectra import goe_levels as goe_levels
from ._spectra import goe_matrix as goe_matrix
from ._spectra import poisson_levels as poisson_levels
from ._spectra import spacing_ratio as spacing_ratio
from ._spectra import spacing_ratios as spacing_ratios
