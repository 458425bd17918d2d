#!/usr/bin/env bash
# Build a free-threaded CPython (./configure --disable-gil) into gilwise's cache folder.
#
#   scripts/build-free-threaded-python.sh [VERSION]         # builds once, then prints the path
#   scripts/build-free-threaded-python.sh [VERSION] --gil   # its GIL twin: same source, same flags
#
# VERSION is a minor version this script knows (3.13, the default, 3.14 or 3.15); each one is
# pinned to one upstream release and the Debian suite that carries it (the table below).
#
# Idempotent: when the cache already holds a build that passes the check below, nothing is
# rebuilt and only its path is printed (stdout carries the path alone; progress goes to stderr).
#
# Why a GIL twin: the free-threaded single-thread penalty is 3.Xt serial / 3.X serial, and it
# is only that when the two builds differ in --disable-gil alone. Measured here, a pyenv 3.13.0
# (built --enable-shared) ran the same pure-Python loop ~1.3x slower than a static 3.13.5 built
# by this script, which would hide most of the penalty.
#
# Where the source comes from, in this order:
#   1. GILWISE_CPYTHON_TARBALL=/path/Python-3.13.x.tar.xz   a tarball you already have;
#   2. Debian: the upstream tarball inside Debian's source package `python3.X` (trixie for 3.13,
#      sid for 3.14 and 3.15), fetched with `apt-get source --download-only` through a temporary
#      deb-src entry. The entry, the
#      package lists and apt's cache live in a temporary folder (never in /etc/apt or
#      /var/lib/apt), so the machine's apt set-up is left exactly as it was. Debian's own patches
#      are not applied: they adapt CPython to Debian's layout (multiarch, dist-packages), not to
#      a --prefix build;
#   3. elsewhere: the python.org tarball (the same bytes: Debian ships upstream's signed
#      tarball as its .orig.tar.xz, so one SHA-256 checks both). The gilwise development
#      machines cannot reach python.org; other machines can.
#
# The SHA-256 pinned per version below is the one Debian's signed Sources index and the
# package's .dsc list for the .orig.tar.xz (read from them, not computed from a download); a
# Debian download is checked against its own .dsc as well, so the pin and Debian must agree.
#
# Build dependencies are installed with apt-get when missing and when running as root; elsewhere
# the script names the packages to install. The slow optional steps (PGO, LTO, test suite) are
# skipped: gilwise compares builds made with the same flags, not the fastest possible build.
#
# Exit status: 0 with the interpreter's path on stdout; 2 bad usage; 3 the source tarball could
# not be fetched (nothing was built: CI skips that version); 1 anything else.
#
# Environment:
#   GILWISE_CACHE            cache root                    (default: $HOME/.cache/gilwise)
#   GILWISE_FT_PREFIX        install prefix                (default: $GILWISE_CACHE/cpython-X.Y.Zt,
#                                                           with --gil $GILWISE_CACHE/cpython-X.Y.Z)
#   GILWISE_CPYTHON_TARBALL  use this source tarball, fetch nothing
#   GILWISE_BUILD_JOBS       make -j value                 (default: 2)
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    echo "usage: $0 [VERSION] [--gil]   VERSION: 3.13 (default), 3.14 or 3.15;" \
         "--gil: the GIL twin of the free-threaded build" >&2
    exit 2
}
MINOR=3.13
FLAVOR=t; CONFIGURE_GIL=(--disable-gil); WANT_FT=True
for arg in "$@"; do
    case "$arg" in
        --gil) FLAVOR=; CONFIGURE_GIL=(); WANT_FT=False ;;
        3.1[3-5]) MINOR=$arg ;;
        *) usage ;;
    esac
done
# One release per minor version; the SHA-256 of its .orig.tar.xz as listed in the Debian .dsc.
# Keep this table in step with _pythons/builds.py (CACHED_BUILD_VERSIONS), which finds the builds.
# CONFIGURE_MORE: flags both builds of a version get. From 3.14 the JIT is turned off by name
# (it is opt-in today, but the comparison across versions must stay JIT-free whatever a release
# defaults to); `gilwise doctor` shows each build's JIT state.
CONFIGURE_MORE=()
case "$MINOR" in
    3.13) PY_VERSION=3.13.5; DEBIAN_SUITE=trixie
          PY_SHA256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640 ;;
    3.14) PY_VERSION=3.14.10; DEBIAN_SUITE=sid; CONFIGURE_MORE=(--enable-experimental-jit=no)
          PY_SHA256=de414a57119abef52784d8993e341d53aed635fc2b05c2607d9f98a2c5b72032 ;;
    3.15) PY_VERSION=3.15.2; DEBIAN_SUITE=sid; CONFIGURE_MORE=(--enable-experimental-jit=no)
          PY_SHA256=8b5536d280142ecf6cdfe15d12a21ba1c65e300bbf7b28a8d0cdb849575797de ;;
esac
CACHE="${GILWISE_CACHE:-$HOME/.cache/gilwise}"
PREFIX="${GILWISE_FT_PREFIX:-$CACHE/cpython-${PY_VERSION}${FLAVOR}}"
PYTHON="$PREFIX/bin/python${MINOR}${FLAVOR}"
NAME="cpython-${PY_VERSION}${FLAVOR}"
JOBS="${GILWISE_BUILD_JOBS:-2}"
BUILD_DEPS=(build-essential pkg-config xz-utils libssl-dev zlib1g-dev libffi-dev libsqlite3-dev
            libbz2-dev liblzma-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev
            libgdbm-compat-dev)

# Exit status when no source could be had (not a failed build): CI skips that version with
# the reason instead of failing; any other failure exits 1.
EXIT_NO_SOURCE=3

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
jit = getattr(sys, "_jit", None)  # 3.14+
assert jit is None or not jit.is_available(), "built with the JIT: versions must be compared JIT-free"
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
    # shellcheck source=scripts/debian-apt.sh
    . "$SCRIPT_DIR/debian-apt.sh"
    temporary_apt "$apt_dir" deb-src "$DEBIAN_SUITE"
    local opts=("${APT_OPTS[@]}")
    local pkg="python$MINOR"
    log "fetching Debian $DEBIAN_SUITE's source package $pkg (temporary deb-src entry)"
    apt-get "${opts[@]}" update -qq >&2 || return 1
    # A suite may list several revisions of a package (sid had 3.14.9-1 and 3.14.10-1 at once):
    # take the newest Debian revision of the pinned upstream release.
    local version
    version="$(apt-cache "${opts[@]}" showsrc "$pkg" | sed -n 's/^Version: //p' \
               | grep -F -- "$PY_VERSION-" | sort -V | tail -n 1 || true)"
    if [ -z "$version" ]; then
        log "$DEBIAN_SUITE's $pkg has no $PY_VERSION: it lists" \
            "$(apt-cache "${opts[@]}" showsrc "$pkg" | sed -n 's/^Version: //p' | tr '\n' ' ')"
        return 1
    fi
    (cd "$WORK" && apt-get "${opts[@]}" source --download-only "$pkg=$version" >&2) || return 1
    # apt checked the files against the .dsc; the .dsc must also name the pinned tarball hash.
    local orig="${pkg}_${PY_VERSION}.orig.tar.xz"
    grep -qE "^ $PY_SHA256 [0-9]+ $orig\$" "$WORK/${pkg}_${version#*:}.dsc" \
        || { log "the .dsc of $pkg $version does not list SHA-256 $PY_SHA256 for $orig"; return 1; }
    mv "$WORK/$orig" "$WORK/source.tar.xz"
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
    if ! fetch_from_python_org; then
        log "error: could not fetch the CPython $PY_VERSION source (Debian $DEBIAN_SUITE's" \
            "python$MINOR, then python.org; the lines above say what each answered). Download" \
            "Python-$PY_VERSION.tar.xz on a machine with access and set GILWISE_CPYTHON_TARBALL to it."
        exit "$EXIT_NO_SOURCE"
    fi
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
log "configure ${CONFIGURE_GIL[*]} ${CONFIGURE_MORE[*]} --prefix=$PREFIX"
./configure "${CONFIGURE_GIL[@]}" "${CONFIGURE_MORE[@]}" --prefix="$PREFIX" --with-ensurepip=install >"$WORK/configure.log" 2>&1 \
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
