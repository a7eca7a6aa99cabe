"""Sweeps that scale out: a grid of simulations (a spec in TOML or Python), run on Dask
distributed (a LocalCluster by default, any scheduler by address), stored as an xarray
Dataset in Zarr, resumable, plotted (docs/sweeps.md)."""

from ._devices import seed_keys as seed_keys
from ._devices import seed_sharding as seed_sharding
from ._run import SweepReport as SweepReport
from ._run import execute_task as execute_task
from ._run import run_sweep as run_sweep
from ._spec import Sweep as Sweep
from ._spec import SweepPoint as SweepPoint
from ._status import SweepStatus as SweepStatus
from ._status import open_sweep as open_sweep
from ._status import plot_sweep as plot_sweep
from ._status import sweep_status as sweep_status
from ._store import SweepStore as SweepStore
from ._store import lock_store as lock_store
from ._tasks import REQUIRED as REQUIRED
from ._tasks import TASKS as TASKS
from ._tasks import EscapeTask as EscapeTask
from ._tasks import Observable as Observable
from ._tasks import Param as Param
from ._tasks import SimulateTask as SimulateTask
from ._tasks import TaskKind as TaskKind
