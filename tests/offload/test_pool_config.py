"""``PoolConfig``: one frozen, checked description of a pool that every front end accepts."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import math
import pickle
from typing import Any

import offload_tasks as t
import pytest

from gilwise import Executor, Offloader, PoolConfig, UsageError

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("settings", "parameter", "says"),
    [
        ({"workers": 0}, "workers", "workers=0: must be at least 1"),
        ({"max_tasks_per_child": 0}, "max_tasks_per_child", "max_tasks_per_child=0: must be at least 1"),
        ({"native_threads": 0}, "native_threads", "native_threads=0: must be at least 1"),
        ({"io_threads": 0}, "io_threads", "io_threads=0: must be at least 1"),
        ({"retries": -1}, "retries", "retries=-1: must be at least 0"),
        ({"shm_threshold": -1}, "shm_threshold", "shm_threshold=-1: must be at least 0"),
        ({"spin_us": -1}, "spin_us", "spin_us=-1: must be at least 0"),
        ({"timeout": 0}, "timeout", "timeout=0: must be a positive number of seconds"),
        ({"timeout": math.nan}, "timeout", "timeout=nan: must be a positive number"),
        ({"backend": "threads"}, "backend", "backend='threads': valid backends are 'process', 'dask'"),
        ({"address": "tcp://127.0.0.1:8786"}, "address", "is for backend='dask'"),
        ({"backend": "dask", "python": "/usr/bin/python3"}, "python", "does not apply to backend='dask'"),
        (
            {"backend": "dask", "address": "tcp://127.0.0.1:8786", "workers": 2},
            "workers",
            "a running cluster has the workers it has",
        ),
    ],
)
def test_bad_settings_are_refused_in_library_terms(
    settings: dict[str, Any], parameter: str, says: str
) -> None:
    with pytest.raises(UsageError) as info:
        PoolConfig(**settings)
    assert info.value.parameter == parameter
    assert says in str(info.value)
    assert "--" not in str(info.value), "a library error names keywords, never CLI flags"


@pytest.mark.parametrize(
    "settings", [{"workers": "2"}, {"workers": True}, {"retries": 1.5}, {"initializer": 42}, {"timeout": "5"}]
)
def test_a_wrong_type_is_a_type_error(settings: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match=next(iter(settings))):
        PoolConfig(**settings)


def test_it_is_frozen_normalised_and_pickles() -> None:
    config = PoolConfig(workers=2, timeout=math.inf, initargs=[1, 2])
    assert config.timeout is None, "math.inf means no limit, stored once as None"
    assert config.initargs == (1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.workers = 3  # type: ignore[misc]
    assert dataclasses.replace(config, workers=3).workers == 3
    assert pickle.loads(pickle.dumps(config)) == config
    assert config.sized(8) is config and PoolConfig().sized(8).workers == 8


def test_usage_errors_keep_their_parameter_across_pickling() -> None:
    error = UsageError("must be at least 1", parameter="workers", value=0)
    again = pickle.loads(pickle.dumps(error))
    assert (again.parameter, again.value, str(again)) == ("workers", 0, "workers=0: must be at least 1")
    assert isinstance(again, ValueError)


def test_front_ends_take_the_config_whole() -> None:
    config = PoolConfig(workers=1, retries=1)
    assert Offloader(config=config).config is config
    with Executor(config=config, route="cpu") as executor:
        assert executor.config is config
        assert executor.submit(t.square, 7).result(30) == 49
        assert len(executor.worker_pids()) == 1


def test_the_keywords_build_the_same_config() -> None:
    off = Offloader(workers=2, timeout=5, retries=1, max_tasks_per_child=10)
    assert off.config == PoolConfig(workers=2, timeout=5, retries=1, max_tasks_per_child=10)
    executor = Executor(3, route="cpu", timeout=5)
    try:
        assert executor.config == PoolConfig(workers=3, timeout=5)
    finally:
        executor.shutdown()


def test_the_config_timeout_is_each_calls_default() -> None:
    async def main() -> None:
        async with Offloader(config=PoolConfig(workers=1, timeout=0.3)) as off:
            with pytest.raises(TimeoutError, match=r"timeout=0\.3"):
                await off.run(t.nap, 30, route="cpu")
            assert await off.run(t.square, 4, route="cpu") == 16

    asyncio.run(main())


@pytest.mark.parametrize(
    "front_end",
    [
        lambda config: Offloader(workers=2, config=config),
        lambda config: Offloader(timeout=9.0, config=config),
        lambda config: Executor(2, config=config),
        lambda config: Executor(retries=3, config=config),
    ],
)
def test_a_keyword_beside_config_is_refused(front_end: Any) -> None:
    # Documented: config= carries the pool's settings whole; a keyword set to anything but
    # its default beside it says the same thing twice, and may contradict it.
    with pytest.raises(
        UsageError, match=r"given beside config=: say each setting once.*dataclasses\.replace"
    ):
        front_end(PoolConfig(workers=1))


def test_a_keyword_left_at_its_default_defers_to_config() -> None:
    config = PoolConfig(workers=1, timeout=2.0)
    assert Offloader(workers=None, timeout=None, initargs=(), config=config).config is config


def test_the_refusal_names_the_keyword_given_and_the_field_to_replace() -> None:
    with pytest.raises(UsageError) as info:
        Executor(2, config=PoolConfig(workers=1))
    assert str(info.value).startswith("max_workers=2 given beside config=")
    assert "dataclasses.replace(config, workers=2)" in str(info.value)


def test_executor_keeps_process_pool_executors_words() -> None:
    with pytest.raises(ValueError, match="max_workers must be greater than 0"):
        Executor(0)


def test_the_front_ends_keywords_are_the_configs_fields() -> None:
    # The front ends hand their locals() to PoolConfig.from_keywords, which takes the names
    # that are settings: a keyword spelled differently from its field would be dropped.
    fields = {field.name for field in dataclasses.fields(PoolConfig)}
    offloader = set(inspect.signature(Offloader).parameters) - {"max_pending", "overload", "config"}
    config_only = {"shm_cache_bytes", "spin_us"}
    assert fields - offloader == config_only, "only config= sets the segment cache and the spin"
    executor = set(inspect.signature(Executor).parameters) - {"max_workers", "route", "mp_context", "config"}
    assert executor < fields
