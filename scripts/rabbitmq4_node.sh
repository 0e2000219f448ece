#!/usr/bin/env bash
# A RabbitMQ 4 node beside the system broker (3.10 on Debian 12): Debian 13's rabbitmq-server
# (4.0 on Erlang 27), run from the chroot of scripts/trixie_chroot.sh (built on first use),
# on ports of its own. The broker on 5672 and its epmd are never touched.
#
#   scripts/rabbitmq4_node.sh up       start rmq4@localhost; print its version and its URLs
#   scripts/rabbitmq4_node.sh down     stop it: no process, no epmd, no mount left; delete
#                                      its state
#   scripts/rabbitmq4_node.sh status   whether it is up (exit 1 when it is not)
#   scripts/rabbitmq4_node.sh ctl ARGS...
#                                      the chroot's rabbitmqctl against the node
#   scripts/rabbitmq4_node.sh with COMMAND [ARG...]
#                                      up, COMMAND with the test suite's variables set to
#                                      the node (RABBITMQ_TEST_*, harness/broker.py), down;
#                                      COMMAND's exit status. When the node cannot be had
#                                      (no chroot: no Debian registry, not root), COMMAND
#                                      runs with RABBITMQ_TEST_UNAVAILABLE saying why.
#
# rmq4@localhost listens for AMQP on 127.0.0.1:5790, for the management API on
# 127.0.0.1:15790 and for Erlang distribution on 127.0.0.1:25790, and registers with an epmd
# of its own on port 4390 (ERL_EPMD_PORT, for the node and its CLI alike). Its data, logs,
# pid file and Erlang cookie live in RMQ4_DIR (default ${TMPDIR:-/tmp}/rmq4-node), which the
# node sees as /srv/rmq4. guest/guest logs in from this machine. Needs root (chroot, mount).
# Environment: RMQ4_DIR, RMQ4_AMQP_PORT, RMQ4_MANAGEMENT_PORT, RMQ4_DIST_PORT,
# RMQ4_EPMD_PORT, RMQ4_START_TIMEOUT (seconds, default 120); TRIXIE_CHROOT, TRIXIE_MIRROR
# (scripts/trixie_chroot.sh).
set -euo pipefail

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT="$(dirname "$SCRIPTS")"
CHROOT_SCRIPT="$SCRIPTS/trixie_chroot.sh"
CHROOT="${TRIXIE_CHROOT:-/var/cache/work-queues/trixie}"
STATE_DIR="${RMQ4_DIR:-${TMPDIR:-/tmp}/rmq4-node}"
INSIDE=/srv/rmq4 # STATE_DIR, as the node sees it
NODE=rmq4@localhost
AMQP_PORT="${RMQ4_AMQP_PORT:-5790}"
MANAGEMENT_PORT="${RMQ4_MANAGEMENT_PORT:-15790}"
DIST_PORT="${RMQ4_DIST_PORT:-25790}"
EPMD_PORT="${RMQ4_EPMD_PORT:-4390}"
START_TIMEOUT="${RMQ4_START_TIMEOUT:-120}" # 3-6 s here, more on a loaded machine
MARKER="$STATE_DIR/.rabbitmq4_node"         # `down` deletes only a directory `up` made
BIN=/usr/lib/rabbitmq/bin                   # the real scripts (run as root, our HOME)

RMQ4_URL="amqp://guest:guest@127.0.0.1:$AMQP_PORT"
RMQ4_MANAGEMENT_URL="http://127.0.0.1:$MANAGEMENT_PORT"

say() { echo "rabbitmq4_node: $*"; }
die() {
  say "error: $*" >&2
  exit 1
}

# in_chroot [--bind HOST_DIR:DIR]... COMMAND...: COMMAND in the chroot with the node's
# state and settings
in_chroot() {
  local binds=()
  while [ "${1:-}" = --bind ]; do
    binds+=("$1" "$2")
    shift 2
  done
  bash "$CHROOT_SCRIPT" run --bind "$STATE_DIR:$INSIDE" "${binds[@]}" /usr/bin/env \
    HOME="$INSIDE/home" ERL_EPMD_PORT="$EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_CONF_ENV_FILE="$INSIDE/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$INSIDE/enabled_plugins" "$@"
}
ctl() { # the project is seen at its own path: import_definitions FILE reads a file of it
  in_chroot --bind "$PROJECT:$PROJECT" "$BIN/rabbitmqctl" -q -n "$NODE" "$@"
}
pings() { in_chroot "$BIN/rabbitmq-diagnostics" -q -n "$NODE" ping >/dev/null 2>&1; }
version() { in_chroot "$BIN/rabbitmq-diagnostics" -q -n "$NODE" server_version; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- up ------------------------------------------------------------------------------------

write_state() {
  mkdir -p "$STATE_DIR/home" "$STATE_DIR/log" "$STATE_DIR/mnesia"
  touch "$MARKER" "$STATE_DIR/rabbitmq-env.conf"
  echo "[rabbitmq_management]." >"$STATE_DIR/enabled_plugins"
  cat >"$STATE_DIR/rabbitmq.conf" <<CONF
listeners.tcp.local = 127.0.0.1:$AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $MANAGEMENT_PORT
log.console = false
log.file.level = info
CONF
  (
    umask 077 # Erlang refuses a cookie file that others can read
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n' | tr a-f A-F >"$STATE_DIR/home/.erlang.cookie"
  )
  chmod 400 "$STATE_DIR/home/.erlang.cookie"
}

start_node() { # in the background, in a session of its own (it outlives this script)
  setsid bash -c 'exec "$@"' start "$BASH" "$0" _in_chroot \
    RABBITMQ_NODENAME="$NODE" RABBITMQ_DIST_PORT="$DIST_PORT" \
    RABBITMQ_CONFIG_FILE="$INSIDE/rabbitmq.conf" RABBITMQ_MNESIA_BASE="$INSIDE/mnesia" \
    RABBITMQ_LOG_BASE="$INSIDE/log" RABBITMQ_PID_FILE="$INSIDE/rmq4.pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    "$BIN/rabbitmq-server" >"$STATE_DIR/log/startup.log" 2>&1 </dev/null &
}

wait_for_node() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until pings; do
    if [ "$SECONDS" -ge "$deadline" ] || ! node_processes >/dev/null; then
      die "$NODE did not answer ping within ${START_TIMEOUT} s (RMQ4_START_TIMEOUT); see $STATE_DIR/log"
    fi
    sleep 1
  done
  ctl await_startup --timeout 60 >/dev/null
}

up() {
  if [ -e "$MARKER" ]; then
    if pings; then
      say "already up (state in $STATE_DIR): RabbitMQ $(version)"
      return
    fi
    say "a previous run in $STATE_DIR is only partly running: tearing it down first"
    down
  elif [ -n "$(ls -A "$STATE_DIR" 2>/dev/null)" ]; then
    die "$STATE_DIR is not empty and was not made by this script; set RMQ4_DIR elsewhere"
  fi
  local port started=$SECONDS
  bash "$CHROOT_SCRIPT" build rabbitmq-server >/dev/null
  for port in "$AMQP_PORT" "$MANAGEMENT_PORT" "$DIST_PORT" "$EPMD_PORT"; do
    ! port_in_use "$port" || die "port $port is already in use; is another node running there?"
  done
  write_state
  start_node
  wait_for_node
  say "up in $((SECONDS - started)) s: $NODE, RabbitMQ $(version) (state in $STATE_DIR)"
  say "AMQP $RMQ4_URL/, management $RMQ4_MANAGEMENT_URL/, epmd port $EPMD_PORT"
}

# --- down ----------------------------------------------------------------------------------

# The node's processes: chrooted in CHROOT, with our epmd port in their environment (the
# launcher, the Erlang VM, its helpers, and the epmd the VM started).
node_processes() {
  local proc found=1
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$CHROOT" ] || continue
    { tr '\0' '\n' <"$proc/environ"; } 2>/dev/null | grep -x "ERL_EPMD_PORT=$EPMD_PORT" \
      >/dev/null || continue # no -q: no SIGPIPE
    echo "${proc#/proc/}"
    found=0
  done
  return $found
}

describe() { # describe PID...: "PID (NAME)" each
  local pid
  for pid in "$@"; do
    printf '%s (%s) ' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null || echo gone)"
  done
}

# `rabbitmqctl stop` ends the VM but not the epmd it started (Erlang's epmd outlives its
# nodes by design): what is left is ended by its pid, TERM first.
stop_node() {
  if [ -s "$STATE_DIR/rmq4.pid" ]; then
    timeout 60 "$BASH" "$0" ctl stop "$INSIDE/rmq4.pid" >/dev/null 2>&1 || true
  fi
  local pids signal
  for signal in TERM KILL; do
    pids="$(node_processes)" || return 0
    say "ending what is left by its pid, with SIG$signal: $(describe $pids)"
    # shellcheck disable=SC2086 # one word per pid
    kill "-$signal" $pids 2>/dev/null || true
    for _ in $(seq 1 20); do
      node_processes >/dev/null || return 0
      sleep 0.5
    done
  done
  die "still running after SIGKILL: $(describe $(node_processes))"
}

down() {
  if [ ! -e "$MARKER" ]; then
    say "nothing to stop (no state in $STATE_DIR)"
    return
  fi
  stop_node
  # the chroot's mounts live in mount namespaces of the node's own processes: none is left
  if grep -q " $CHROOT/" /proc/mounts; then
    die "mounts left under $CHROOT: $(grep " $CHROOT/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')"
  fi
  rm -rf "$STATE_DIR"
  say "down: no process, no epmd, no mount left (removed $STATE_DIR)"
}

status() {
  if [ ! -e "$MARKER" ]; then
    say "down (no state in $STATE_DIR)"
    return 1
  fi
  pings || {
    say "$NODE does not answer (state in $STATE_DIR); run: $0 down"
    return 1
  }
  say "$NODE is up: RabbitMQ $(version), AMQP $RMQ4_URL/, management $RMQ4_MANAGEMENT_URL/"
}

# --- with: the test suite against the node -------------------------------------------------

# The variables harness/broker.py reads: the broker to test, its management API and its CLI.
export_test_variables() {
  export RABBITMQ_TEST_AMQP_URL="$RMQ4_URL"
  export RABBITMQ_TEST_MANAGEMENT_URL="$RMQ4_MANAGEMENT_URL"
  export RABBITMQ_TEST_CTL="$BASH $SCRIPTS/rabbitmq4_node.sh ctl"
  export RABBITMQ_TEST_SCRATCH=1 # our own node: tests may stop it and raise its alarms
}

with_node() {
  [ $# -ge 1 ] || usage
  local errors status=0 release
  errors="$(mktemp)"
  if "$BASH" "$0" up 2>"$errors"; then
    cat "$errors" >&2
    trap '"$BASH" "$0" down' EXIT
    trap 'exit 130' INT TERM
    release="$(version)"
    export_test_variables
    "$@" || status=$?
    say "$* exited $status against RabbitMQ $release"
  else
    cat "$errors" >&2
    # the tests skip with this line as their reason (and fail with it in CI)
    RABBITMQ_TEST_UNAVAILABLE="$(grep -v '^$' "$errors" | tail -1)"
    export RABBITMQ_TEST_UNAVAILABLE
    "$@" || status=$?
  fi
  rm -f "$errors"
  return "$status"
}

usage() {
  echo "usage: $0 up|down|status|ctl ARGS...|with COMMAND [ARG...]" >&2
  exit 2
}

case "${1:-}" in
up | down | status) "$1" ;;
ctl)
  shift
  ctl "$@"
  ;;
with)
  shift
  with_node "$@"
  ;;
_in_chroot) # start_node's: the node's server script in the chroot, in the foreground
  shift
  in_chroot "$@"
  ;;
*) usage ;;
esac
