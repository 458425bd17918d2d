import os
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
        "assert gilwise.Offloader.__name__ == 'Offloader'\n"
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
