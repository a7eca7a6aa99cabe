"""Neural collapse in JAX: NC1-NC4 metrics, the deep linear UFM (training, Hessians) and a
small MLP on scikit-learn's digits trained to the terminal phase."""

from ._ce import CeUfmReport as CeUfmReport
from ._ce import ce_ufm_loss as ce_ufm_loss
from ._ce import ce_ufm_report as ce_ufm_report
from ._ce import dnc_critical_points as dnc_critical_points
from ._ce import dnc_params as dnc_params
from ._ce import train_ce_ufm as train_ce_ufm
from ._compare import UfmComparison as UfmComparison
from ._compare import compare_ufm as compare_ufm
from ._metrics import class_means as class_means
from ._metrics import collapse_metrics as collapse_metrics
from ._metrics import nc1 as nc1
from ._metrics import nc2 as nc2
from ._metrics import nc3 as nc3
from ._metrics import nc4 as nc4
from ._metrics import nearest_class_centre as nearest_class_centre
from ._mlp import MlpCollapse as MlpCollapse
from ._mlp import load_dataset as load_dataset
from ._mlp import train_mlp as train_mlp
from ._ufm import UfmTraining as UfmTraining
from ._ufm import block_hessian_eigenvalues as block_hessian_eigenvalues
from ._ufm import block_hessians as block_hessians
from ._ufm import kronecker_factors as kronecker_factors
from ._ufm import optimum_params as optimum_params
from ._ufm import product_singular_values as product_singular_values
from ._ufm import train_ufm as train_ufm
from ._ufm import ufm_loss as ufm_loss
from ._ufm import ufm_targets as ufm_targets
