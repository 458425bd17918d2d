"""Concurrency models: one module per model, one ordered registry table (``MODELS``).

A model knows how to run N copies of a workload's task (threads, processes, sub-interpreters,
C++ threads, ...) inside a harness worker and returns records of what happened, never text.
Adding a model = one module + one line here (the ``dask`` model lives in ``dask_cluster.py``,
named so that it cannot shadow the ``dask`` package). May import ``_workloads``, ``_native``,
``_subinterp``, ``_pythons.discovery``, ``_extras`` (install commands) and ``_exceptions``;
never the harness, report or CLI. Imported inside harness workers, so stdlib-only at import time.
"""

from __future__ import annotations

from ._base import Execution, Job, Model, Phases
from .aio import AsyncioModel
from .dask_cluster import DaskModel
from .jvm_threads import JvmThreadsModel
from .native_threads import CppThreadsModel
from .processes import (
    DefaultProcessPoolModel,
    ForkProcessPoolModel,
    ForkserverProcessPoolModel,
    SpawnProcessPoolModel,
)
from .serial import SerialModel
from .subinterpreters import SubinterpreterModel
from .threads import ThreadPoolModel

MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        SerialModel(),
        ThreadPoolModel(),
        DefaultProcessPoolModel(),
        ForkProcessPoolModel(),
        ForkserverProcessPoolModel(),
        SpawnProcessPoolModel(),
        AsyncioModel(),
        SubinterpreterModel(),
        CppThreadsModel(),
        DaskModel(),
        JvmThreadsModel(),
    )
}

DEFAULT_MODELS = ("serial", "threads", "processes", "asyncio", "cpp-threads")


def get_model(name: str) -> Model:
    return MODELS[name]


__all__ = [
    "DEFAULT_MODELS",
    "MODELS",
    "Execution",
    "Job",
    "Model",
    "Phases",
    "get_model",
]
