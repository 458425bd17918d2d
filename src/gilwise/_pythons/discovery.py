"""CPython builds gilwise can run workers under: what they are and how they were built.

A probe runs a tiny stdlib-only script *in the interpreter itself* (never guesses from a path
name), so the metadata is what that build reports: version, free-threaded build flag, GIL state
at run time, start methods, extension ABI tag.

- ``probe(path)`` / ``current()``: one interpreter;
- ``survey()``: every CPython on this machine (current, --python, PATH, pyenv,
  uv, gilwise's cache), probed for real, with the reasons the unusable ones were skipped;
- whether an import turns a free-threaded build's GIL back on: see ``_gilstate``.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError
from .._results.document import InterpreterEntry, JitState, build_label
from .builds import cached_builds, default_cache_dir

# Runs inside the probed interpreter (after version_problem() said it is a CPython 3.11+).
PROBE_SCRIPT = r"""
import json, multiprocessing, platform, re, sys, sysconfig
def _jit():
    # 3.14+ asks the running interpreter; before, only the configure flags can tell (3.13's
    # JIT is opt-in at build time: --enable-experimental-jit[=yes|yes-off|no|interpreter]).
    jit = getattr(sys, "_jit", None)
    if jit is not None:
        state = "on" if jit.is_enabled() else ("off" if jit.is_available() else "not built")
        return state, "sys._jit"
    args = sysconfig.get_config_var("CONFIG_ARGS") or ""
    found = re.search(r"--enable-experimental-jit(?:=([\w-]+))?", args)
    value = None if found is None else (found.group(1) or "yes")
    # "interpreter" builds the tier-2 interpreter without the JIT compiler.
    state = {"yes": "on", "yes-off": "off"}.get(value or "", "not built")
    return state, "CONFIG_ARGS"
def _build_flags():
    # What the build was configured with, less what tells a free-threaded build from its twin
    # (--disable-gil) and where it is installed: twins share this digest, other builds do not.
    import hashlib, shlex
    args = shlex.split(sysconfig.get_config_var("CONFIG_ARGS") or "")
    kept = sorted(a for a in args if a != "--disable-gil" and not a.startswith("--prefix="))
    return hashlib.sha256("\0".join(kept).encode()).hexdigest()[:16]
def _subinterpreters():
    for name in ("concurrent.interpreters", "interpreters", "_interpreters", "_xxsubinterpreters"):
        try:
            __import__(name)
        except ImportError:
            continue
        return name
    return None
is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
jit_state, jit_source = _jit()
print(json.dumps({
    "path": sys.executable,
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": True if is_gil_enabled is None else bool(is_gil_enabled()),
    "soabi": sysconfig.get_config_var("SOABI") or "",
    "start_methods": multiprocessing.get_all_start_methods(),
    "default_start_method": multiprocessing.get_start_method(),
    "subinterpreters_module": _subinterpreters(),
    "jit": jit_state,
    "jit_source": jit_source,
    "build_flags": _build_flags(),
}))
"""


@dataclass(frozen=True)
class InterpreterInfo:
    """What one CPython build is, as it reports itself."""

    path: str
    version: str
    version_info: tuple[int, int, int]
    implementation: str
    free_threaded: bool
    gil_enabled: bool
    soabi: str
    start_methods: tuple[str, ...]
    default_start_method: str
    subinterpreters_module: str | None
    jit: JitState | None = None
    """The JIT at start-up (isolated mode, so no PYTHON_JIT): None when probed by an older gilwise."""
    jit_source: str | None = None
    """How ``jit`` was read: ``sys._jit`` (3.14+) or ``CONFIG_ARGS`` (the configure flags)."""
    build_flags: str | None = None
    """Digest of the configure flags less --disable-gil and --prefix: equal for same-flags twins."""

    @property
    def label(self) -> str:
        """Short human name: ``3.13.0``, ``3.13.5t`` for a free-threaded build."""
        return build_label(self.version, self.free_threaded)

    def to_json(self) -> InterpreterEntry:
        entry: InterpreterEntry = {
            "path": self.path,
            "version": self.version,
            "version_info": list(self.version_info),
            "implementation": self.implementation,
            "free_threaded": self.free_threaded,
            "gil_enabled": self.gil_enabled,
            "soabi": self.soabi,
            "start_methods": list(self.start_methods),
            "default_start_method": self.default_start_method,
            "subinterpreters_module": self.subinterpreters_module,
        }
        if self.jit is not None:
            entry["jit"] = self.jit
        if self.jit_source is not None:
            entry["jit_source"] = self.jit_source
        if self.build_flags is not None:
            entry["build_flags"] = self.build_flags
        return entry

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InterpreterInfo:
        vi = data["version_info"]
        return cls(
            path=str(data["path"]),
            version=str(data["version"]),
            version_info=(int(vi[0]), int(vi[1]), int(vi[2])),
            implementation=str(data["implementation"]),
            free_threaded=bool(data["free_threaded"]),
            gil_enabled=bool(data["gil_enabled"]),
            soabi=str(data.get("soabi", "")),
            start_methods=tuple(data["start_methods"]),
            default_start_method=str(data["default_start_method"]),
            subinterpreters_module=data.get("subinterpreters_module"),
            jit=_jit_state(data.get("jit")),
            jit_source=data.get("jit_source"),
            build_flags=data.get("build_flags"),
        )


def _jit_state(value: Any) -> JitState | None:
    return value if value in ("on", "off", "not built") else None


class UnusableInterpreter(UsageError):
    """``path`` is not a CPython gilwise can run workers under; ``reason`` says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"{reason}. Give the path of a CPython {'.'.join(map(str, MIN_SUPPORTED))}+ "
            "executable, e.g. one that `gilwise doctor` lists.",
            parameter="python",
            value=path,
        )
        self.path, self.reason = path, reason


_cache: dict[str, InterpreterInfo] = {}


def probe(path: str, timeout: float = 30.0) -> InterpreterInfo:
    """Ask the interpreter at ``path`` what it is; UnusableInterpreter when gilwise cannot use it.

    Two steps: a one-line version check that any Python (2.7 included) and any other program
    answers harmlessly, then the full probe, only for a CPython of a supported version.
    """
    resolved = os.path.realpath(path) if os.path.exists(path) else path
    if resolved in _cache:
        return _cache[resolved]
    reason = version_problem(path)
    if reason is not None:
        raise UnusableInterpreter(path, reason)
    try:
        proc = subprocess.run(
            [path, "-I", "-c", PROBE_SCRIPT],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnusableInterpreter(path, f"cannot run it ({exc})") from exc
    if proc.returncode != 0:
        raise UnusableInterpreter(
            path, f"it exited with {proc.returncode} when probed: {proc.stderr.strip()[-300:]}"
        )
    try:
        info = InterpreterInfo.from_json(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (ValueError, KeyError, IndexError) as exc:
        raise UnusableInterpreter(path, f"its probe output was not understood ({exc})") from exc
    _cache[resolved] = info
    return info


def current() -> InterpreterInfo:
    """The interpreter running gilwise (probed in a child so GIL state is a fresh process's)."""
    return probe(sys.executable)


# --- discovery -----------------------------------------------------------------------------

MIN_SUPPORTED = (3, 11)
# Any Python, 2.7 included, can run this: it tells whether the full probe is worth running.
_VERSION_SCRIPT = (
    "import platform, sys; sys.stdout.write(platform.python_implementation() + ' ' + "
    "'.'.join(map(str, sys.version_info[:3])) + '\\n')"
)
_NAME = re.compile(r"python3(\.\d+t?)?$")


@dataclass(frozen=True)
class SkippedInterpreter:
    """A Python that discovery found but gilwise cannot use, and why (shown by doctor)."""

    path: str
    source: str
    reason: str


@dataclass(frozen=True)
class InterpreterSurvey:
    """What discovery found: usable CPythons (sorted by version) and the skipped ones."""

    interpreters: tuple[InterpreterInfo, ...]
    skipped: tuple[SkippedInterpreter, ...]
    sources: dict[str, str]  # InterpreterInfo.path -> where it was found ("pyenv", "PATH", ...)


def _pythons_in(directory: str) -> list[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    found = []
    # Most specific name first (python3.13t before python3.13 before python3): the name a
    # hard-linked or symlinked interpreter is reported under is the one a reader recognises.
    names.sort(key=lambda name: (-len(name), name))
    for name in names:
        path = os.path.join(directory, name)
        if _NAME.match(name) and os.path.isfile(path) and os.access(path, os.X_OK):
            found.append(path)
    return found


def uv_python_dir() -> str:
    """Where ``uv python install`` puts interpreters, as ``uv python dir`` says, read from the
    environment instead of asking uv (a process per start): ``$UV_PYTHON_INSTALL_DIR``, else
    uv's data folder (``$XDG_DATA_HOME/uv``, ``~/.local/share/uv``) + ``python``. Each install
    is a folder like ``cpython-3.14.0+freethreaded-linux-x86_64-gnu/bin/python3.14t``."""
    explicit = os.environ.get("UV_PYTHON_INSTALL_DIR")
    if explicit:
        return os.path.expanduser(explicit)
    # XDG: a relative $XDG_DATA_HOME is invalid and ignored.
    data_home = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(data_home):
        data_home = os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data_home, "uv", "python")


def _candidates() -> list[tuple[str, str]]:
    """(path, source) pairs in discovery order; duplicates are removed later."""
    out: list[tuple[str, str]] = [(sys.executable, "current")]
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    # pyenv's shims are shell scripts that dispatch to one of the versions scanned below; run
    # directly, most of them only print "command not found in this version".
    shims = os.path.realpath(os.path.join(pyenv_root, "shims"))
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if directory and os.path.realpath(directory) != shims:
            out += [(p, "PATH") for p in _pythons_in(directory)]
    for bin_dir in sorted(glob.glob(os.path.join(pyenv_root, "versions", "*", "bin"))):
        out += [(p, "pyenv") for p in _pythons_in(bin_dir)]
    for bin_dir in sorted(glob.glob(os.path.join(uv_python_dir(), "*", "bin"))):
        out += [(p, "uv") for p in _pythons_in(bin_dir)]
    for bin_dir in sorted(glob.glob(os.path.join(default_cache_dir(), "*", "bin"))):
        out += [(p, "gilwise cache") for p in _pythons_in(bin_dir)]
    for build in cached_builds():
        if os.environ.get(build.env_variable):
            out.append((os.environ[build.env_variable], build.env_variable))
    return out


def _file_identity(path: str) -> tuple[int, int] | None:
    # Identity by inode, not by real path: `make install` hard-links python3.13 to python3.13t.
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def version_problem(path: str) -> str | None:
    """Why ``path`` is not a CPython of a supported version, or None: the one version check."""
    try:
        proc = subprocess.run(
            [path, "-S", "-E", "-c", _VERSION_SCRIPT],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run it: {exc}"
    if proc.returncode != 0:
        # Not a Python at all (``--python /bin/ls``) lands here: say so without echoing the script.
        return f"it is not a Python interpreter (asked for its version, it exited with {proc.returncode})"
    try:
        impl, version = proc.stdout.split()
        numbers = tuple(int(part) for part in version.split("."))
    except ValueError:
        return f"its version could not be read from {proc.stdout.strip()!r}"
    if impl != "CPython":
        return f"{impl} {version} is not CPython: gilwise measures CPython's GIL and its builds"
    if numbers[:2] < MIN_SUPPORTED:
        oldest = ".".join(map(str, MIN_SUPPORTED))
        return f"CPython {version} is older than {oldest}, the oldest version gilwise supports"
    return None


def survey(extra: tuple[str, ...] = ()) -> InterpreterSurvey:
    """Find the CPythons on this machine and probe each one for real.

    Looks at the current interpreter, ``extra`` paths (``--python``), python3 / python3.X /
    python3.Xt on PATH, pyenv versions, uv-managed Pythons and gilwise's cache. Each file is
    probed once (duplicates by inode), each interpreter kept once (by the real path of the
    executable it reports). A path in ``extra`` that is not a usable CPython raises UsageError;
    any other unusable one is kept in ``skipped`` with its reason.
    """
    seen_files: set[tuple[int, int]] = set()
    found: dict[str, InterpreterInfo] = {}
    sources: dict[str, str] = {}
    skipped: list[SkippedInterpreter] = []
    explicit = [(p, "--python") for p in extra]
    for path, source in [*explicit, *_candidates()]:
        identity = _file_identity(path)
        if identity is None:
            if source == "--python":
                raise UnusableInterpreter(path, "no such file")
            skipped.append(SkippedInterpreter(path=path, source=source, reason="no such file"))
            continue
        if identity in seen_files:
            continue
        seen_files.add(identity)
        try:
            info = probe(path)
        except UnusableInterpreter as exc:
            if source == "--python":
                raise
            skipped.append(SkippedInterpreter(path=path, source=source, reason=exc.reason))
            continue
        key = os.path.realpath(info.path)
        if key not in found:
            found[key] = info
            sources[info.path] = source
    ordered = sorted(found.values(), key=lambda i: (i.version_info, i.free_threaded, i.path))
    return InterpreterSurvey(interpreters=tuple(ordered), skipped=tuple(skipped), sources=sources)
