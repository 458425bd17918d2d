"""The offload runtime behind ``gilwise.Offloader``, ``gilwise.offload()`` and ``gilwise.Executor``:
keep event loops responsive by running blocking work in warm worker processes or threads.

A library: it imports only ``_exceptions``, ``_extras`` (install commands), ``_system``
(``usable_cores``) and the standard library (NumPy when arrays cross); the service uses it,
the harness and report never import it. The Dask backend (``backend="dask"``: ``_dask``,
``_dask_call``, ``_dask_worker``) is the engine API of ``_pool`` on a Dask cluster, imported
only when asked for (it needs the ``dask`` extra).

Modules, from the wire up: ``_worker`` (worker process and wire format, stdlib-only),
``_zygote`` (the single-threaded process that forks workers, stdlib-only), ``_shm``
(shared-memory segment reuse), ``_process`` (the zygote and one worker seen from the parent),
``_task`` (a call and its frame), ``_pool`` (warm workers, dispatch, crash recovery,
timeouts), ``_loop_replies`` (replies read by an event loop: ``LoopFuture``, the loop's
``ReplySpin``), ``_errors`` (``WorkerCrashed``
and ``Unpicklable``, whose bases are heavy to import), ``_failures`` (error messages),
``_routing`` (cpu / io / native / auto),
``_admission`` (backpressure), ``_config`` (``PoolConfig``: the settings every pool and
front end reads), ``_runtime`` (pool + threads + routing), ``_asyncio`` (the
``Offloader`` front end) and ``_executor`` (the ``concurrent.futures`` front end).
"""

from __future__ import annotations

from ._asyncio import Offloader, offload
from ._config import PoolConfig
from ._executor import Executor
from ._routing import cpu_bound, io_bound
from ._stats import OffloadStatistics

__all__ = ["Executor", "OffloadStatistics", "Offloader", "PoolConfig", "cpu_bound", "io_bound", "offload"]
