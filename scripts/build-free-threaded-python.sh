#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (./configure --disable-gil) into gilwise's cache folder.
#
#   scripts/build-free-threaded-python.sh          # builds once, then prints the interpreter path
#   scripts/build-free-threaded-python.sh --gil    # its GIL twin: same source, same flags
#
# Idempotent: when the cache already holds a build that passes the check below, nothing is
# rebuilt and only its path is printed (stdout carries the path alone; progress goes to stderr).
#
# Why a GIL twin: the free-threaded single-thread penalty is 3.13t serial / 3.13 serial, and it
# is only that when the two builds differ in --disable-gil alone. Measured here, a pyenv 3.13.0
# (built --enable-shared) ran the same pure-Python loop ~1.3x slower than a static 3.13.5 built
# by this script, which would hide most of the penalty.
#
# Where the source comes from, in this order:
#   1. GILWISE_CPYTHON_TARBALL=/path/Python-3.13.x.tar.xz   a tarball you already have;
#   2. Debian: the upstream tarball inside Debian trixie's source package `python3.13`, fetched
#      with `apt-get source --download-only` through a temporary deb-src entry. The entry, the
#      package lists and apt's cache live in a temporary folder (never in /etc/apt or
#      /var/lib/apt), so the machine's apt set-up is left exactly as it was. Debian's own patches
#      are not applied: they adapt CPython to Debian's layout (multiarch, dist-packages), not to
#      a --prefix build;
#   3. elsewhere: the python.org tarball (the same bytes: Debian ships upstream's signed
#      tarball as its .orig.tar.xz, so one SHA-256 checks both). The gilwise development
#      machines cannot reach python.org; other machines can.
#
# Build dependencies are installed with apt-get when missing and when running as root; elsewhere
# the script names the packages to install. The slow optional steps (PGO, LTO, test suite) are
# skipped: gilwise compares builds made with the same flags, not the fastest possible build.
#
# Environment:
#   GILWISE_CACHE            cache root                    (default: $HOME/.cache/gilwise)
#   GILWISE_FT_PREFIX        install prefix                (default: $GILWISE_CACHE/cpython-3.13.5t,
#                                                           with --gil $GILWISE_CACHE/cpython-3.13.5)
#   GILWISE_CPYTHON_TARBALL  use this source tarball, fetch nothing
#   GILWISE_BUILD_JOBS       make -j value                 (default: 2)
set -euo pipefail

PY_VERSION=3.13.5
PY_SHA256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
CACHE="${GILWISE_CACHE:-$HOME/.cache/gilwise}"
case "${1:-}" in
    "") FLAVOR=t; CONFIGURE_GIL=(--disable-gil); WANT_FT=True ;;
    --gil) FLAVOR=; CONFIGURE_GIL=(); WANT_FT=False ;;
    *) echo "usage: $0 [--gil]   (--gil: the GIL twin of the free-threaded build)" >&2; exit 2 ;;
esac
PREFIX="${GILWISE_FT_PREFIX:-$CACHE/cpython-${PY_VERSION}${FLAVOR}}"
PYTHON="$PREFIX/bin/python3.13${FLAVOR}"
NAME="cpython-${PY_VERSION}${FLAVOR}"
JOBS="${GILWISE_BUILD_JOBS:-2}"
BUILD_DEPS=(build-essential pkg-config xz-utils libssl-dev zlib1g-dev libffi-dev libsqlite3-dev
            libbz2-dev liblzma-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev
            libgdbm-compat-dev)

log() { printf '[build-free-threaded-python] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# What "a working build" means: the build asked for (free-threaded with the GIL off at run time,
# or the GIL twin) with the stdlib modules gilwise and its workloads import (a missing -dev
# package makes configure drop one of them silently, so each is imported here).
check_build() {
    [ -x "$PYTHON" ] || return 1
    "$PYTHON" -I -c '
import sys, sysconfig
want_ft = sys.argv[1] == "True"
assert bool(sysconfig.get_config_var("Py_GIL_DISABLED")) == want_ft, "wrong build flavour"
assert sys._is_gil_enabled() != want_ft, "unexpected GIL state at run time"
import bz2, ctypes, decimal, hashlib, json, lzma, math, multiprocessing, sqlite3, ssl, zlib
import _interpreters
' "$WANT_FT" >&2
}

if check_build 2>/dev/null; then
    echo "$PYTHON"
    exit 0
fi

# A half-installed prefix from an interrupted run must not be mistaken for a build. Only a
# folder this script made (it carries the marker) or an empty one is ever removed.
MARKER=".gilwise-free-threaded-build"
if [ -e "$PREFIX" ] && [ ! -e "$PREFIX/$MARKER" ] && [ -n "$(ls -A "$PREFIX")" ]; then
    die "$PREFIX exists, is not empty and was not made by this script; choose another GILWISE_FT_PREFIX"
fi

mkdir -p "$CACHE"
# One build at a time per cache (CI and a developer shell may start it together).
exec 9>"$CACHE/.build-$NAME.lock"
if ! flock -n 9; then
    log "another build holds $CACHE/.build-$NAME.lock; waiting for it"
    flock 9
fi
if check_build 2>/dev/null; then
    echo "$PYTHON"
    exit 0
fi

WORK="$(mktemp -d "$CACHE/build-$NAME.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

is_root() { [ "$(id -u)" = 0 ]; }
have_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; }

install_build_deps() {
    have_apt || { log "not a Debian-like system: make sure a C compiler and the headers of" \
                      "OpenSSL, zlib, libffi, SQLite, bzip2, xz, readline, ncurses are installed"; return 0; }
    local missing=() pkg
    for pkg in "${BUILD_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    is_root || die "missing build packages: ${missing[*]}. Install them: sudo apt-get install ${missing[*]}"
    log "installing build packages: ${missing[*]}"
    # Other apt users on a shared machine: wait for their lock instead of failing.
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "${missing[@]}" >&2
}

fetch_from_debian() {
    local apt_dir="$WORK/apt"
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    cat >"$apt_dir/sources.list.d/gilwise-trixie-src.sources" <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
                -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
                -o "APT::Sandbox::User=$(id -un)")
    log "fetching Debian trixie's source package python3.13 (temporary deb-src entry)"
    apt-get "${opts[@]}" update -qq >&2 || return 1
    local version
    version="$(apt-cache "${opts[@]}" showsrc python3.13 | sed -n 's/^Version: //p' | head -n 1)"
    case "$version" in
        "$PY_VERSION"-*) ;;
        *) log "trixie's python3.13 is ${version:-absent}, not $PY_VERSION"; return 1 ;;
    esac
    (cd "$WORK" && apt-get "${opts[@]}" source --download-only "python3.13=$version" >&2) || return 1
    mv "$WORK/python3.13_${PY_VERSION}.orig.tar.xz" "$WORK/source.tar.xz"
    # The temporary entry, lists and cache go with $apt_dir now, not at exit, so no later apt
    # command in this script can see them.
    rm -rf "$apt_dir"
}

fetch_from_python_org() {
    local url="https://www.python.org/ftp/python/${PY_VERSION}/Python-${PY_VERSION}.tar.xz"
    log "fetching $url (not reachable from the gilwise development machines)"
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 3 -o "$WORK/source.tar.xz" "$url"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$WORK/source.tar.xz" "$url"
    else
        die "neither curl nor wget is installed to fetch $url; set GILWISE_CPYTHON_TARBALL instead"
    fi
}

install_build_deps

if [ -n "${GILWISE_CPYTHON_TARBALL:-}" ]; then
    [ -f "$GILWISE_CPYTHON_TARBALL" ] || die "GILWISE_CPYTHON_TARBALL=$GILWISE_CPYTHON_TARBALL is not a file"
    cp "$GILWISE_CPYTHON_TARBALL" "$WORK/source.tar.xz"
elif have_apt && fetch_from_debian; then
    :
else
    fetch_from_python_org || die "could not fetch the CPython $PY_VERSION source. Download" \
        "Python-$PY_VERSION.tar.xz on a machine with access and set GILWISE_CPYTHON_TARBALL to it."
fi

actual="$(sha256sum "$WORK/source.tar.xz" | cut -d' ' -f1)"
[ "$actual" = "$PY_SHA256" ] || die "source tarball SHA-256 is $actual, expected $PY_SHA256" \
    "(upstream Python-$PY_VERSION.tar.xz). Use that exact tarball."

log "unpacking"
mkdir -p "$WORK/src"
tar -xJf "$WORK/source.tar.xz" -C "$WORK/src" --strip-components=1

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
touch "$PREFIX/$MARKER"
trap 'rm -rf "$WORK"; [ -n "${install_ok:-}" ] || rm -rf "$PREFIX"' EXIT

cd "$WORK/src"
log "configure ${CONFIGURE_GIL[*]} --prefix=$PREFIX"
./configure "${CONFIGURE_GIL[@]}" --prefix="$PREFIX" --with-ensurepip=install >"$WORK/configure.log" 2>&1 \
    || { tail -n 40 "$WORK/configure.log" >&2; die "configure failed (log above)"; }
log "make -j$JOBS (a few minutes)"
make -j"$JOBS" >"$WORK/make.log" 2>&1 || { tail -n 60 "$WORK/make.log" >&2; die "make failed (log above)"; }
# CPython's build names the optional modules it had to leave out; gilwise needs some of them.
sed -n '/necessary bits to build these optional modules/,/^$/p;/Failed to build these modules/,/^$/p' \
    "$WORK/make.log" >&2 || true
log "make install"
make install >"$WORK/install.log" 2>&1 || { tail -n 40 "$WORK/install.log" >&2; die "make install failed"; }

if ! check_build; then
    die "the build at $PREFIX does not pass its check (output above)"
fi
install_ok=1
log "built $("$PYTHON" -c 'import sys; print(sys.version)')"
echo "$PYTHON"
