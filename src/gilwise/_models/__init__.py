"""The model registry: one ordered table. Adding a model = one module + one line here."""

from __future__ import annotations

from ._base import Execution, Job, Model, Phases
from .aio import AsyncioModel
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
    )
}

DEFAULT_MODELS = ("serial", "threads", "processes", "asyncio", "cpp-threads")


def get_model(name: str) -> Model:
    return MODELS[name]


def model_names() -> list[str]:
    return list(MODELS)


__all__ = [
    "DEFAULT_MODELS",
    "MODELS",
    "Execution",
    "Job",
    "Model",
    "Phases",
    "get_model",
    "model_names",
]
