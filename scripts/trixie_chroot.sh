#!/usr/bin/env bash
# A Debian 13 ("trixie") chroot, built once with debootstrap and kept outside the clone:
# newer packages than this Debian 12 machine's (RabbitMQ 4.0 on Erlang 27, Python 3.13),
# which need a newer C library than the host's and so cannot be installed beside it.
#
#   scripts/trixie_chroot.sh build [PACKAGE...]
#                       build the chroot if it is missing (and install PACKAGEs in it);
#                       print its directory
#   scripts/trixie_chroot.sh run [--bind HOST_DIR:DIR]... COMMAND [ARG...]
#                       run COMMAND inside it (built first if missing), as root, on the
#                       host's network, with /proc and /dev; each --bind shows HOST_DIR at
#                       DIR inside (DIR is created in the chroot if missing)
#
# `run` mounts /proc, /dev and the --bind directories in a mount namespace of its own: they
# are gone when the last process started in it exits, and the host never sees them.
# The chroot is complete or absent: it is built in DIR.partial and renamed at the end, under
# a lock (DIR.lock), so two callers at once build it once. Its packages are never upgraded;
# delete the directory to start again. Needs root (debootstrap, chroot, mount); installs
# debootstrap with apt-get when it is missing. A chroot that cannot be built is one line on
# stderr, starting "trixie_chroot: cannot build", and exit 1.
# Environment: TRIXIE_CHROOT (the directory, default /var/cache/work-queues/trixie),
# TRIXIE_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

CHROOT="${TRIXIE_CHROOT:-/var/cache/work-queues/trixie}"
MIRROR="${TRIXIE_MIRROR:-http://deb.debian.org/debian}"
BUILT="$CHROOT/.built" # written last: the chroot is whole

say() { echo "trixie_chroot: $*"; }
cannot_build() { # one line, for the tests to show as their skip reason
  say "cannot build the Debian 13 chroot in $CHROOT: $*" >&2
  exit 1
}

need_root() {
  [ "$(id -u)" -eq 0 ] || cannot_build "needs root (debootstrap, chroot, mount); run it as root"
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return
  say "installing debootstrap (apt-get)"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } \
    >"$CHROOT.log" 2>&1 || cannot_build "apt-get install debootstrap failed (see $CHROOT.log)"
}

# in_namespace ROOT [--bind HOST_DIR:DIR]... COMMAND...: COMMAND chrooted in ROOT, in a
# private mount namespace holding ROOT's /proc and /dev
in_namespace() {
  local root=$1
  shift
  local binds=()
  while [ "${1:-}" = --bind ]; do
    binds+=("$2")
    shift 2
  done
  [ $# -ge 1 ] || {
    echo "usage: $0 run [--bind HOST_DIR:DIR]... COMMAND [ARG...]" >&2
    exit 2
  }
  unshare --mount --propagation private -- bash -euc '
    root=$1 binds=$2
    shift 2
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    for bind in $binds; do
      mkdir -p "$root/${bind#*:}"
      mount --bind "${bind%%:*}" "$root/${bind#*:}"
    done
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
      HOME=/root "$@"
  ' in_namespace "$root" "${binds[*]}" "$@"
}

build() {
  need_root
  mkdir -p "$(dirname "$CHROOT")"
  exec 9>"$CHROOT.lock"
  flock 9 # another build of the same chroot finishes first
  if [ ! -e "$BUILT" ]; then
    build_anew
  fi
  install_packages "$@"
  exec 9>&-
}

build_anew() {
  local partial="$CHROOT.partial" started=$SECONDS
  ensure_debootstrap
  rm -rf "$partial" "$CHROOT"
  say "building $CHROOT (debootstrap trixie from $MIRROR; about 25 s and 220 MB)"
  if ! debootstrap --variant=minbase trixie "$partial" "$MIRROR" >"$CHROOT.log" 2>&1; then
    rm -rf "$partial"
    cannot_build "debootstrap failed (is $MIRROR reachable? see $CHROOT.log)"
  fi
  cp /etc/resolv.conf /etc/hosts "$partial/etc/"
  # no service is started by a package's installation: the nodes are started by our scripts
  printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"
  chmod +x "$partial/usr/sbin/policy-rc.d"
  touch "$partial/.built"
  mv "$partial" "$CHROOT"
  say "built $CHROOT in $((SECONDS - started)) s"
}

install_packages() { # install_packages PACKAGE...: those not installed yet
  local package missing=()
  for package in "$@"; do
    in_namespace "$CHROOT" dpkg-query -W -f '${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  say "installing ${missing[*]} in $CHROOT"
  in_namespace "$CHROOT" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@" && apt-get clean' apt "${missing[@]}" \
    >>"$CHROOT.log" 2>&1 || cannot_build "apt-get install ${missing[*]} failed (see $CHROOT.log)"
}

run() {
  if [ ! -e "$BUILT" ]; then
    build >&2
  fi
  in_namespace "$CHROOT" "$@"
}

case "${1:-}" in
build)
  shift
  build "$@"
  echo "$CHROOT"
  ;;
run)
  shift
  run "$@"
  ;;
*)
  echo "usage: $0 build [PACKAGE...] | run [--bind HOST_DIR:DIR]... COMMAND [ARG...]" >&2
  exit 2
  ;;
esac
