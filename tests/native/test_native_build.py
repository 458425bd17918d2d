"""How the native kernels are built and loaded: clean clone, other interpreters, subinterpreters."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from gilwise import _native
from gilwise._exceptions import UsageError
from gilwise._native import _install
from gilwise._native._build import build_capi
from gilwise._pythons import discovery
from gilwise._system.install import checkout_root

REPO = Path(__file__).resolve().parents[2]
NATIVE_DIR = REPO / "native"
NATIVE_PACKAGE = Path(_native.__file__).parent
SOURCE_SUFFIXES = {".c", ".cc", ".cpp", ".h", ".hpp"}

# Runs in a child interpreter: checks where gilwise._native came from and that it works there.
CHECK_INSTALLED = """
import sys
from pathlib import Path
import gilwise._native as m
where = Path(m.__file__).resolve()
assert where.is_relative_to(Path(sys.argv[1]).resolve()), (where, sys.argv[1])
reasons = {impl: m.unavailable_reason(impl) for impl in m.IMPLS}
assert all(reason is None for reason in reasons.values()), reasons
expected = m.sqrt_log_python(5000)
for impl, fn in m.SERIAL_IMPLS.items():
    assert abs(fn(5000) - expected) <= 1e-9 * expected, impl
assert m.sqrt_log_cpp_threads(5000, 2) > 0
print("ok", m._capi.__file__, m._library.LIBRARY_PATH)
"""


def _run(cmd: list[str], cwd: Path, timeout: float = 300, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJ"))}
    clean.pop("PYTHONPATH", None)
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_every_native_source_is_a_uv_cache_key() -> None:
    # Otherwise editing that file would not rebuild the kernels on the next `uv sync`.
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    keys = {entry["file"] for entry in config["tool"]["uv"]["cache-keys"] if "file" in entry}
    sources = {
        f"native/{path.name}"
        for path in NATIVE_DIR.iterdir()
        if path.suffix in SOURCE_SUFFIXES or path.name == "CMakeLists.txt"
    }
    assert sources, "no sources found in native/"
    assert sources <= keys, f"add to [tool.uv] cache-keys in pyproject.toml: {sources - keys}"


def test_importing_the_kernels_needs_only_the_stdlib() -> None:
    # As in a harness worker: PYTHONPATH=src and no site-packages (-S), so NumPy is absent.
    script = (
        "import sys; import gilwise._native as m\n"
        "outside = {name.partition('.')[0] for name in sys.modules} - set(sys.stdlib_module_names)"
        " - {'gilwise', '__main__', '__mp_main__'}\n"
        "assert not outside, outside\n"
        "print(m.unavailable_reason('numpy'))\n"
        "assert m.unavailable_reason('native') is None and m.unavailable_reason('ctypes') is None\n"
        "assert m.sqrt_log_native(1000) == m.sqrt_log_ctypes(1000) == m.sqrt_log_python(1000)\n"
    )
    out = _run([sys.executable, "-S", "-c", script], cwd=REPO, PYTHONPATH=str(REPO / "src"))
    assert "NumPy cannot be imported" in out
    assert "pip install numpy" in out


@functools.cache
def _other_cpythons() -> list[discovery.InterpreterInfo]:
    """CPython builds on this machine other than the one running the tests."""
    names = [f"python3.{minor}{t}" for minor in range(11, 16) for t in ("", "t")]
    found = [shutil.which(name) for name in names]
    found += [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.1*/bin/python3"))]
    # Where scripts/build-free-threaded-python.sh puts the free-threaded builds it makes.
    cache = Path(os.environ.get("GILWISE_CACHE", Path.home() / ".cache" / "gilwise"))
    found += [str(p) for p in sorted(cache.glob("cpython-*/bin/python3.1[0-9]*")) if p.is_file()]
    mine = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    seen, infos = {mine}, []
    for path in found:
        if path is None or os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        try:
            info = discovery.probe(path)
        except UsageError:  # e.g. a pyenv shim for a version that is not selected
            continue
        if info.implementation == "cpython" and info.soabi != sysconfig.get_config_var("SOABI"):
            infos.append(info)
    return infos


def _need(minimum: tuple[int, int], free_threaded: bool = False) -> discovery.InterpreterInfo:
    for info in _other_cpythons():
        if info.version_info[:2] >= minimum and info.free_threaded == free_threaded:
            return info
    kind = "free-threaded " if free_threaded else ""
    pytest.skip(
        f"no other {kind}CPython >= {minimum[0]}.{minimum[1]} on PATH, under ~/.pyenv or in "
        "~/.cache/gilwise (scripts/build-free-threaded-python.sh builds one)"
    )


def test_the_stable_abi_version_is_the_one_the_wheel_is_built_for() -> None:
    # One fact: the py-api tag scikit-build-core builds for, and what the hints and _build say.
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    py_api = config["tool"]["scikit-build"]["wheel"]["py-api"]
    assert py_api == "cp{}{}".format(*_install.STABLE_ABI_VERSION)
    assert (NATIVE_PACKAGE / _install.STABLE_ABI_FILE).is_file()
    assert Path(_native._capi.__file__).name == _install.STABLE_ABI_FILE


@pytest.mark.timeout(120)
def test_every_other_gil_cpython_loads_the_stable_abi_extension() -> None:
    # The point of abi3: the file `uv sync` (and the wheel) built under 3.11 serves 3.12+ as is.
    others = [info for info in _other_cpythons() if not info.free_threaded]
    if not others:
        pytest.skip("no other GIL build of CPython >= 3.11 on PATH, under ~/.pyenv or in ~/.cache/gilwise")
    script = (
        "import gilwise._native as m; assert m.unavailable_reason('native') is None, "
        "m.unavailable_reason('native'); print(m._capi.__file__);"
        " print(repr(m.sqrt_log_native(123457)), repr(m.sqrt_log_native_gil(1000)))"
    )
    for other in others:
        out = _run([other.path, "-s", "-c", script], cwd=REPO, PYTHONPATH=str(REPO / "src"))
        where, values = out.splitlines()
        assert Path(where).name == _install.STABLE_ABI_FILE, other.path
        native, native_gil = (float(v) for v in values.split())
        assert native == _native.sqrt_log_python(123457) and native_gil == _native.sqrt_log_python(1000)


@pytest.mark.timeout(120)
def test_a_free_threaded_interpreter_uses_the_ctypes_library_and_explains_the_extension() -> None:
    other = _need((3, 13), free_threaded=True)
    script = (
        "import gilwise._native as m\n"
        "assert m.unavailable_reason('ctypes') is None, m.unavailable_reason('ctypes')\n"
        "assert m.unavailable_reason('cpp-threads') is None\n"
        "print(repr(m.sqrt_log_ctypes(123457)), repr(m.sqrt_log_cpp_threads(123457, 3)))\n"
        "print(m.unavailable_reason('native'))\n"
        "try:\n    m.sqrt_log_native(10)\nexcept m.NativeKernelUnavailable as exc:\n    print(exc)\n"
        "else:\n    print('ran')\n"
    )
    out = _run([other.path, "-s", "-c", script], cwd=REPO, PYTHONPATH=str(REPO / "src"))
    values, reason, raised = out.splitlines()[:3]
    ctypes_value, threads_value = (float(v) for v in values.split())
    assert ctypes_value == _native.sqrt_log_ctypes(123457)
    assert threads_value == _native.sqrt_log_cpp_threads(123457, 3)
    if (NATIVE_PACKAGE / f"_capi.{other.soabi}.so").exists():  # built with _build for it
        assert reason == "None" and raised == "ran"
    else:
        assert other.version in reason and "_capi.abi3.so (the stable ABI)" in reason
        # A checkout builds it; the hint is the command, with this interpreter's path.
        assert f"`uv run python -m gilwise._native._build {other.path}`" in reason
        assert "use the `ctypes` impl" in reason
        assert raised == reason


@pytest.mark.timeout(300)
def test_the_build_helper_makes_the_extension_usable_in_a_free_threaded_interpreter(
    tmp_path: Path,
) -> None:
    other = _need((3, 13), free_threaded=True)
    package = _copy_of_the_package(tmp_path / "src")
    shutil.copy2(NATIVE_PACKAGE / "libgilwise_native.so", package / "_native")
    _build_capi_for(other, package / "_native")
    script = (
        "import gilwise._native as m; assert m.unavailable_reason('native') is None;"
        " print(m._capi.__file__); print(repr(m.sqrt_log_native(123457)))"
    )
    out = _run([other.path, "-s", "-c", script], cwd=tmp_path, PYTHONPATH=str(tmp_path / "src"))
    where, value = out.splitlines()
    assert Path(where).parent == package / "_native"
    assert float(value) == _native.sqrt_log_python(123457)


def _copy_of_the_package(dest: Path) -> Path:
    """src/gilwise copied under ``dest`` without its built kernels: an unbuilt gilwise."""
    package = dest / "gilwise"
    shutil.copytree(REPO / "src" / "gilwise", package, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    return package


def _build_capi_for(info: discovery.InterpreterInfo, dest: Path) -> Path:
    """Compile the C-API extension for another interpreter with the project's own helper."""
    built = build_capi(info.path, out_dir=dest, build_dir=dest / "cmake-build")
    expected = f"_capi.{info.soabi}.so" if info.free_threaded else _install.STABLE_ABI_FILE
    assert built.parent == dest and built.name == expected
    return built


# What an installed gilwise says when a kernel does not load: run in a child interpreter on an
# unbuilt copy of the package placed in a site folder (no checkout around it).
REASONS = """
import gilwise._native as m
print(m.unavailable_reason('native'))
print(m.unavailable_reason('ctypes'))
"""


def _reasons_in_site(tmp_path: Path, wheel_metadata: str | None) -> list[str]:
    site = tmp_path / "site-packages"
    _copy_of_the_package(site)
    if wheel_metadata is not None:  # the dist-info a wheel install leaves beside the package
        dist_info = site / "gilwise-0.1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: gilwise\nVersion: 0.1.0\n")
        (dist_info / "WHEEL").write_text(wheel_metadata)
    out = _run([sys.executable, "-S", "-c", REASONS], cwd=tmp_path, PYTHONPATH=str(site))
    return out.splitlines()


@pytest.mark.timeout(60)
def test_an_install_without_its_kernels_names_pip_not_the_checkout(tmp_path: Path) -> None:
    native, ctypes_reason = _reasons_in_site(
        tmp_path, "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-abi3-linux_x86_64\n"
    )
    for reason in (native, ctypes_reason):
        assert "is not built" in reason and "`pip install --force-reinstall --no-deps gilwise`" in reason
        assert "uv " not in reason and "checkout" not in reason, reason


@pytest.mark.timeout(60)
def test_a_pure_python_install_says_it_was_built_without_a_c_compiler(tmp_path: Path) -> None:
    # What the sdist installs when native/ cannot be compiled (the if.failed override): a
    # py3-none-any wheel. Both kernels say so, with both ways to get them.
    reasons = _reasons_in_site(tmp_path, "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    assert reasons == [_install.NO_COMPILER_REASON + "."] * 2
    assert reasons[0].startswith("this install was built without a C compiler (")
    assert "--only-binary gilwise" in reasons[0] and "--no-binary gilwise" in reasons[0]


@pytest.mark.timeout(60)
def test_an_installed_gilwise_sends_a_free_threaded_interpreter_to_its_own_wheel(tmp_path: Path) -> None:
    # A `--python 3.13t` worker of a gilwise installed from the abi3 wheel: it cannot compile
    # anything (no checkout), so the fix is the wheel made for that interpreter.
    free = _need((3, 13), free_threaded=True)
    package = _copy_of_the_package(tmp_path / "site-packages")
    for built in (_install.STABLE_ABI_FILE, "libgilwise_native.so"):
        shutil.copy2(NATIVE_PACKAGE / built, package / "_native")
    out = _run([free.path, "-S", "-c", REASONS], cwd=tmp_path, PYTHONPATH=str(tmp_path / "site-packages"))
    native, ctypes_reason = out.splitlines()
    assert ctypes_reason == "None"
    assert f"`{free.path} -m pip install gilwise` and run gilwise from there" in native
    assert "uv " not in native and "_build" not in native


def test_the_checkout_is_told_from_an_install() -> None:
    assert checkout_root() == REPO
    assert _install.rebuild_command() == "uv sync --reinstall-package gilwise"


SUBINTERPRETER_CHECK = """
import sys
sys.path.insert(0, sys.argv[1])
import _capi
expected = _capi.sqrt_log(1000)
code = (f"import sys; sys.path.insert(0, {sys.argv[1]!r}); import _capi; "
        f"assert _capi.sqrt_log(1000) == {expected!r}")
try:
    import _interpreters as interpreters
except ImportError:  # 3.12
    import _xxsubinterpreters as interpreters
    interp = interpreters.create(isolated=True)
    try:
        interpreters.run_string(interp, code)
    finally:
        interpreters.destroy(interp)
else:  # 3.13+: "isolated" = own GIL, check_multi_interp_extensions=True
    interp = interpreters.create(interpreters.new_config("isolated"))
    try:
        failure = interpreters.exec(interp, code)
    finally:
        interpreters.destroy(interp)
    if failure is not None:
        raise SystemExit(f"sub-interpreter failed: {failure.formatted}")
print("ok")
"""


@pytest.mark.timeout(120)
def test_the_stable_abi_extension_loads_in_a_sub_interpreter_with_its_own_gil(tmp_path: Path) -> None:
    # An isolated sub-interpreter refuses modules without Py_MOD_PER_INTERPRETER_GIL_SUPPORTED
    # ("module _capi does not support loading in subinterpreters"). The abi3 file is built
    # against 3.11, which has no such slot: it declares it only when it runs on 3.12+.
    other = _need((3, 12))
    shutil.copy2(NATIVE_PACKAGE / _install.STABLE_ABI_FILE, tmp_path)
    out = _run([other.path, "-I", "-c", SUBINTERPRETER_CHECK, str(tmp_path)], cwd=tmp_path)
    assert out.strip() == "ok"


@pytest.mark.timeout(120)
def test_the_extension_keeps_the_gil_disabled_on_free_threaded_builds(tmp_path: Path) -> None:
    # Without Py_mod_gil = Py_MOD_GIL_NOT_USED, importing it re-enables the GIL with a warning.
    other = _need((3, 13), free_threaded=True)
    _build_capi_for(other, tmp_path)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import _capi;"
        " assert not sys._is_gil_enabled(); print(_capi.sqrt_log(1000))"
    )
    out = _run([other.path, "-I", "-W", "error", "-c", script, str(tmp_path)], cwd=tmp_path)
    assert float(out) == _native.sqrt_log_python(1000)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_clean_clone_builds_the_kernels_with_no_manual_step(tmp_path: Path) -> None:
    """`uv sync` (editable, in place) and a wheel (`uv build`) both compile and ship the kernels.

    The clone is every file git would put in one (tracked or not ignored), so uncommitted work
    is tested too; build outputs (ignored) are not copied.
    """
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if listing.returncode != 0:
        pytest.skip(f"not a git checkout: {listing.stderr.decode(errors='replace')}")
    clone = tmp_path / "clone"
    for name in listing.stdout.decode().split("\0"):
        if name and (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    assert not list((clone / "src").rglob("*.so")), "build outputs leaked into the clone"

    uv = shutil.which("uv")
    assert uv, "uv is not on PATH: python3 -m pip install uv"
    _run([uv, "sync", "--locked"], cwd=clone, timeout=600)
    _run([str(clone / ".venv/bin/python"), "-c", CHECK_INSTALLED, str(clone / "src")], cwd=clone)

    _run([uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist")], cwd=clone, timeout=600)
    # One wheel for every GIL build of CPython 3.11+: the extension is built for the stable ABI.
    (wheel,) = (tmp_path / "dist").glob("gilwise-*-cp311-abi3-linux_*.whl")
    venv = tmp_path / "venv"
    _run([uv, "venv", "--python", sys.executable, str(venv)], cwd=tmp_path)
    # with the numpy extra: CHECK_INSTALLED wants every impl, and NumPy is not in the core install
    requirement = f"gilwise[numpy] @ {wheel.as_uri()}"
    _run([uv, "pip", "install", "--python", str(venv / "bin/python"), requirement], cwd=tmp_path)
    out = _run([str(venv / "bin/python"), "-c", CHECK_INSTALLED, str(venv)], cwd=tmp_path)
    assert "site-packages/gilwise/_native/libgilwise_native.so" in out
