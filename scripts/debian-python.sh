#!/usr/bin/env bash
# Debian sid's own CPython 3.14 or 3.15 (a GIL build), runnable here from its binary packages.
#
#   scripts/debian-python.sh 3.14     # assembles it once, then prints the interpreter path
#
# Why: the free-threaded 3.14/3.15 builds come from source (build-free-threaded-python.sh), and
# where Debian's mirror does not serve the sid *source* packages, a real 3.14 is still needed to
# run what only exists there: concurrent.interpreters and InterpreterPoolExecutor (PEP 734),
# sys._jit. Debian builds no free-threaded variant of 3.14/3.15, so this is never a twin: its
# flags are Debian's (PGO, LTO, a newer GCC), and gilwise compares it with no other build.
#
# How: python3.X-minimal, libpython3.X-minimal, libpython3.X-stdlib and the libraries they link
# (glibc included: sid's CPython needs a newer glibc than stable ships) are fetched with
# `apt-get download` through a temporary deb entry (scripts/debian-apt.sh), unpacked with
# `dpkg -x` into the cache, never installed, and the interpreter is pointed at that glibc's
# loader and libraries with patchelf. Nothing outside the cache folder changes.
#
# Idempotent; stdout carries the path alone, progress goes to stderr. Exit status: 0, 2 bad
# usage, 3 the packages could not be fetched (nothing was assembled), 1 anything else.
#
# Environment:
#   GILWISE_CACHE   cache root (default: $HOME/.cache/gilwise); the build lands in
#                   $GILWISE_CACHE/debian-python3.X
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXIT_NO_SOURCE=3

case "${1:-}" in
    3.14 | 3.15) MINOR=$1 ;;
    *) echo "usage: $0 VERSION   VERSION: 3.14 or 3.15 (Debian sid's python3.X packages)" >&2; exit 2 ;;
esac
SUITE=sid
CACHE="${GILWISE_CACHE:-$HOME/.cache/gilwise}"
PREFIX="$CACHE/debian-python$MINOR"
PYTHON="$PREFIX/bin/python$MINOR"
# The interpreter and what its stdlib extension modules link (python3.X's Depends, less the
# data-only packages and the Berkeley DB that only dbm.bsd uses).
PACKAGES=("python$MINOR-minimal" "libpython$MINOR-minimal" "libpython$MINOR-stdlib" libc6 libgcc-s1
          libssl3t64 libexpat1 zlib1g libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libzstd1
          libncursesw6 libtinfo6 libreadline8t64)

log() { printf '[debian-python] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

check_build() {
    [ -x "$PYTHON" ] || return 1
    "$PYTHON" -I -c '
import sys
assert sys.version_info[:2] == tuple(map(int, sys.argv[1].split("."))), sys.version
import bz2, ctypes, decimal, hashlib, json, lzma, math, multiprocessing, sqlite3, ssl, zlib
import concurrent.interpreters, _interpreters
from concurrent.futures import InterpreterPoolExecutor
' "$MINOR" >&2
}

# Debian byte-compiles the stdlib when it installs the package (py3compile in postinst); an
# unpacked one has only .py files, and with PYTHONDONTWRITEBYTECODE set every import would
# compile them again (measured here: `import typing` 25 ms instead of 3 ms, in every
# sub-interpreter and every spawned worker). So compile them once, as installing would.
BYTECODE_MARKER=".gilwise-bytecode"
compile_stdlib() {
    log "byte-compiling the stdlib (as Debian's package installation does)"
    "$PYTHON" -I -m compileall -q -j 0 "$PREFIX/root/usr/lib/python$MINOR" >&2 \
        || die "compileall failed for $PREFIX/root/usr/lib/python$MINOR"
    touch "$PREFIX/$BYTECODE_MARKER"
}

if check_build 2>/dev/null; then
    [ -e "$PREFIX/$BYTECODE_MARKER" ] || compile_stdlib
    echo "$PYTHON"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 \
    || die "needs a Debian-like system (apt-get, dpkg)"
if ! command -v patchelf >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "patchelf is missing: sudo apt-get install patchelf"
    log "installing patchelf"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends patchelf >&2
fi

MARKER=".gilwise-debian-python"
if [ -e "$PREFIX" ] && [ ! -e "$PREFIX/$MARKER" ] && [ -n "$(ls -A "$PREFIX")" ]; then
    die "$PREFIX exists, is not empty and was not made by this script"
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.build-debian-python$MINOR.lock"
flock 9
if check_build 2>/dev/null; then
    echo "$PYTHON"
    exit 0
fi

WORK="$(mktemp -d "$CACHE/build-debian-python$MINOR.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=scripts/debian-apt.sh
. "$SCRIPT_DIR/debian-apt.sh"
temporary_apt "$WORK/apt" deb "$SUITE"
log "fetching Debian $SUITE's python$MINOR binary packages (temporary deb entry)"
apt-get "${APT_OPTS[@]}" update -qq >&2 || { log "error: apt could not read $SUITE's lists"; exit "$EXIT_NO_SOURCE"; }
mkdir -p "$WORK/debs"
if ! (cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" download "${PACKAGES[@]}" >&2); then
    log "error: could not download ${PACKAGES[*]} from Debian $SUITE (apt's lines above say why)"
    exit "$EXIT_NO_SOURCE"
fi

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
touch "$PREFIX/$MARKER"
trap 'rm -rf "$WORK"; [ -n "${assembled:-}" ] || rm -rf "$PREFIX"' EXIT
for deb in "$WORK"/debs/*.deb; do
    dpkg -x "$deb" "$PREFIX/root"
done
LIBS="$PREFIX/root/usr/lib/x86_64-linux-gnu"
[ -f "$LIBS/ld-linux-x86-64.so.2" ] || die "sid's libc6 did not unpack a loader at $LIBS (not amd64?)"
mkdir -p "$PREFIX/bin"
# A copy, not a link: CPython finds its stdlib from the executable's real location, so the
# binary stays in root/usr/bin, and bin/ (which gilwise's discovery scans) links to it.
BINARY="$PREFIX/root/usr/bin/python$MINOR"
# RPATH, not RUNPATH: it also applies to the libraries that stdlib extension modules pull in.
patchelf --set-interpreter "$LIBS/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$LIBS" "$BINARY"
ln -s "$BINARY" "$PYTHON"

check_build || die "the assembled interpreter at $PYTHON does not pass its check (output above)"
compile_stdlib
assembled=1
log "assembled $("$PYTHON" -c 'import sys; print(sys.version.replace(chr(10), " "))')"
echo "$PYTHON"
