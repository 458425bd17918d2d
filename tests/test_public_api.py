import os
import pickle
import subprocess
import sys
import types
from pathlib import Path

import gilwise


def test_all_is_sorted_and_complete() -> None:
    assert gilwise.__all__ == sorted(gilwise.__all__)
    for name in gilwise.__all__:
        assert hasattr(gilwise, name), name
    public = {
        n
        for n, v in vars(gilwise).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType) and n != "annotations"
    }
    assert public <= set(gilwise.__all__), public - set(gilwise.__all__)
    assert set(gilwise.__all__) <= set(dir(gilwise))


def test_importing_the_package_loads_only_the_stdlib() -> None:
    # Harness workers and sub-interpreters import gilwise: the offload runtime stays lazy.
    code = (
        "import sys, gilwise\n"
        "extra = {m.partition('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)\n"
        "assert extra <= {'gilwise', '__main__', '__mp_main__'}, extra\n"
        "assert 'gilwise._offload' not in sys.modules\n"
        # Every sub-interpreter pays for these (~20 ms): the offload errors load them on first use.
        "assert 'concurrent.futures.process' not in sys.modules, 'concurrent.futures.process'\n"
        "assert 'typing' not in sys.modules, 'typing'\n"
        "assert gilwise.Offloader.__name__ == 'Offloader'\n"
        "from concurrent.futures.process import BrokenProcessPool\n"
        "assert issubclass(gilwise.WorkerCrashed, BrokenProcessPool)\n"
    )
    src = str(Path(gilwise.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    subprocess.run([sys.executable, "-S", "-c", code], check=True, timeout=60, env=env)


def test_public_classes_and_functions_report_the_public_module() -> None:
    # As httpx does: reprs, tracebacks and docs show gilwise.X, not the private module.
    for name in gilwise.__all__:
        value = getattr(gilwise, name)
        if isinstance(value, type) or callable(value):
            assert value.__module__ == "gilwise", (name, value.__module__)
    assert repr(gilwise.WorkerCrashed).startswith("<class 'gilwise.WorkerCrashed'")


def test_lazy_offload_errors_pickle_by_their_public_name() -> None:
    from concurrent.futures.process import BrokenProcessPool

    from gilwise._offload._errors import WorkerCrashed

    assert WorkerCrashed is gilwise.WorkerCrashed
    assert issubclass(gilwise.WorkerCrashed, BrokenProcessPool)
    assert issubclass(gilwise.Unpicklable, pickle.PicklingError)
    crash = gilwise.WorkerCrashed("died", exitcode=-9, signal="SIGKILL", pid=7, cause="killed")
    again = pickle.loads(pickle.dumps(crash))
    assert type(again) is gilwise.WorkerCrashed
    assert (str(again), again.exitcode, again.signal, again.pid, again.cause) == (
        "died",
        -9,
        "SIGKILL",
        7,
        "killed",
    )
    assert pickle.loads(pickle.dumps(gilwise.Unpicklable("no"))).args == ("no",)


def test_the_version_is_the_one_pyproject_declares() -> None:
    # Written twice by necessity (the build reads pyproject.toml, documents read the package):
    # this keeps the two equal.
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert gilwise.__version__ == declared
    assert "__version__" in dir(gilwise)
