#!/usr/bin/env bash
# Print the path of a Python older than 3.10: tests/test_platforms.py runs every program
# with it, and each must refuse it in one line. CI exports it as OLD_PYTHON (.ci/run).
#
#   scripts/old_python.sh              the path on stdout; or one line on stderr saying why,
#                                      exit 1
#   scripts/old_python.sh --installed  only look for one installed (1. below): unpack nothing
#
# Looked for in this order:
#   1. pyenv's 3.9 or 3.8 (~/.pyenv/versions), or python3.9 or python3.8 on the PATH;
#   2. Debian 11 (bullseye)'s python3.9, from Debian's packages: unpacked once by
#      debootstrap (installed with apt-get if need be; root) into OLD_PYTHON_CACHE (default
#      /var/cache/work-queues-old-python, outside the clone, so later runs reuse it: about
#      250 MB, 30-60 s the first time), and run by its own loader and libraries through the
#      wrapper OLD_PYTHON_CACHE/python3.9.
set -euo pipefail

CACHE="${OLD_PYTHON_CACHE:-/var/cache/work-queues-old-python}"
ROOT="$CACHE/bullseye"
WRAPPER="$CACHE/python3.9"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

die() {
  echo "old_python: $*" >&2
  exit 1
}

is_old_python() { "$1" -c 'import sys; sys.exit(sys.version_info >= (3, 10))' 2>/dev/null; }

installed_old_python() {
  local candidate
  for candidate in "$HOME"/.pyenv/versions/3.9.*/bin/python "$HOME"/.pyenv/versions/3.8.*/bin/python \
    "$(command -v python3.9)" "$(command -v python3.8)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && is_old_python "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

need_debootstrap() {
  command -v debootstrap >/dev/null && return
  [ "$(id -u)" -eq 0 ] || die "no Python older than 3.10 here, and debootstrap (to unpack Debian 11's python3.9) is not installed: install one, e.g. pyenv install 3.9, or run as root"
  command -v apt-get >/dev/null || die "no Python older than 3.10 here, and no apt-get to install debootstrap: install one, e.g. pyenv install 3.9"
  apt-get install -y -q debootstrap >&2 ||
    die "no Python older than 3.10 here, and apt-get could not install debootstrap (see above): install one, e.g. pyenv install 3.9"
}

unpack_bullseye() {
  need_debootstrap
  [ "$(id -u)" -eq 0 ] || die "no Python older than 3.10 here, and unpacking Debian 11's python3.9 with debootstrap needs root: install one, e.g. pyenv install 3.9"
  rm -rf "$ROOT.partial"
  echo "old_python: none installed: unpacking Debian 11's python3.9 into $ROOT (once, 30-60 s)" >&2
  if ! debootstrap --variant=minbase --include=python3.9 bullseye "$ROOT.partial" "$DEBIAN_MIRROR" \
    >"$CACHE/debootstrap.log" 2>&1; then
    tail -n 15 "$CACHE/debootstrap.log" >&2
    die "debootstrap of Debian 11 (bullseye) from $DEBIAN_MIRROR failed (above; all in $CACHE/debootstrap.log); its python3.9 is the old Python the tests need"
  fi
  mv "$ROOT.partial" "$ROOT"
}

write_wrapper() {
  local loader
  loader="$(find "$ROOT/usr/lib" -maxdepth 2 -name 'ld-linux*.so.*' | head -n 1)"
  [ -n "$loader" ] || die "no dynamic loader (ld-linux*.so.*) in $ROOT/usr/lib: delete $CACHE and run again"
  # Debian 11's python3.9, with Debian 11's own loader and libraries, not this machine's
  cat >"$WRAPPER.partial" <<WRAPPER
#!/bin/sh
PYTHONHOME="$ROOT/usr" exec "$loader" --library-path "$(dirname "$loader")" "$ROOT/usr/bin/python3.9" "\$@"
WRAPPER
  chmod +x "$WRAPPER.partial"
  mv "$WRAPPER.partial" "$WRAPPER"
}

bullseye_python() {
  mkdir -p "$CACHE" 2>/dev/null || die "no Python older than 3.10 here, and cannot create $CACHE (set OLD_PYTHON_CACHE): install one, e.g. pyenv install 3.9"
  exec 9>"$CACHE/.lock"
  flock 9 # two runs at once unpack it once
  [ -x "$ROOT/usr/bin/python3.9" ] || unpack_bullseye
  [ -x "$WRAPPER" ] || write_wrapper
  is_old_python "$WRAPPER" || die "$WRAPPER does not run as a Python older than 3.10: delete $CACHE and run again"
  echo "$WRAPPER"
}

case "${1:-}" in
  "") installed_old_python || bullseye_python ;;
  --installed) installed_old_python || die "no Python older than 3.10 installed (pyenv's 3.9 or 3.8, python3.9 or python3.8 on the PATH); scripts/old_python.sh unpacks Debian 11's" ;;
  *) die "unknown argument '$1'; usage: scripts/old_python.sh [--installed]" ;;
esac
