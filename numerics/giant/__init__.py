"""Giant gradient steps: the subspaces they learn, measured against the exponents report's
prediction, and the spiked features after one step (docs/giant.md; Dandi et al. arXiv
2305.18270, Ba et al. arXiv 2205.01445)."""

from ._ridge import exact_moments as exact_moments
from ._ridge import gaussian_equivalent_moments as gaussian_equivalent_moments
from ._ridge import ridge_after_step as ridge_after_step
from ._ridge import ridge_deterministic_equivalent as ridge_deterministic_equivalent
from ._spike import feature_covariance_theory as feature_covariance_theory
from ._spike import feature_covariance_top as feature_covariance_top
from ._spike import outlier_position as outlier_position
from ._spike import spike_scenario as spike_scenario
from ._spike import spike_simulation as spike_simulation
from ._spike import spike_summary as spike_summary
from ._spike import spike_theory as spike_theory
from ._spike import student_moments as student_moments
from ._spike import target_moments as target_moments
from ._subspaces import Direction as Direction
from ._subspaces import default_second_layer as default_second_layer
from ._subspaces import giant_step_lr as giant_step_lr
from ._subspaces import predicted_directions as predicted_directions
from ._subspaces import shrinkage_exponent as shrinkage_exponent
from ._subspaces import span_overlaps as span_overlaps
from ._subspaces import subspace_overlaps as subspace_overlaps
