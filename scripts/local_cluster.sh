#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, for development and the cluster tests.
#
#   scripts/local_cluster.sh up       start rmq1..rmq3@localhost and join them into one cluster
#   scripts/local_cluster.sh down     stop the nodes and delete everything they wrote
#   scripts/local_cluster.sh status   print the cluster's status (exit 1 when it is not up)
#   scripts/local_cluster.sh cli TOOL ARGS...
#                                     run rabbitmqctl, rabbitmq-diagnostics or rabbitmq-queues
#                                     with the cluster's cookie, e.g.
#                                     cli rabbitmqctl -n rmq1@localhost list_queues name leader
#
# Node rmqN@localhost listens for AMQP on 127.0.0.1:570N and for Erlang distribution on
# 127.0.0.1:2570N. Its data, logs, pid file (rmqN/rmqN.pid) and the cluster's own Erlang
# cookie live under RMQ_CLUSTER_DIR (default ${TMPDIR:-/tmp}/rmq-local-cluster); the
# management plugin is off. A broker already running on 5672 (rabbit@localhost) is never
# touched: the nodes read none of /etc/rabbitmq and share only epmd with it.
# Connect with RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5701/,amqp://guest:guest@127.0.0.1:5702/,...
#
# Forming the cluster takes 30-50 s on a 2-CPU machine: the three nodes boot at once, then
# rmq2 and rmq3 join rmq1. Environment: RMQ_CLUSTER_DIR (the state directory),
# RMQ_START_TIMEOUT (seconds a node may take to answer ping, default 120), RMQ_SCRIPTS_DIR
# (where rabbitmq-server and rabbitmqctl are, found by default).
set -euo pipefail

NODES=(rmq1 rmq2 rmq3)
HOST=localhost
FIRST_AMQP_PORT=5701
FIRST_DIST_PORT=25701
START_TIMEOUT="${RMQ_START_TIMEOUT:-120}" # 15-25 s here, three nodes booting at once
STATE_DIR="${RMQ_CLUSTER_DIR:-${TMPDIR:-/tmp}/rmq-local-cluster}"
MARKER="$STATE_DIR/.local_cluster" # `down` deletes only a directory that `up` made
FORMED="$STATE_DIR/.formed"        # `up` went all the way: three nodes, one cluster

say() { echo "local_cluster: $*"; }
die() {
  say "error: $*" >&2
  exit 1
}

# Debian's /usr/sbin/rabbitmq* wrappers switch to the rabbitmq user, whose HOME holds the
# system broker's cookie; the scripts they wrap run as we are, with our HOME and cookie.
find_rabbitmq_scripts() {
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    echo /usr/lib/rabbitmq/bin
  elif command -v rabbitmq-server >/dev/null 2>&1; then
    dirname "$(command -v rabbitmq-server)"
  else
    die "rabbitmq-server not found; run scripts/ensure_rabbitmq.sh first"
  fi
}
RABBITMQ_SCRIPTS="${RMQ_SCRIPTS_DIR:-$(find_rabbitmq_scripts)}"

# Settings every node and every CLI call share. HOME holds the cluster's .erlang.cookie;
# the empty env file stands in for /etc/rabbitmq/rabbitmq-env.conf (NODENAME=rabbit@localhost).
export HOME="$STATE_DIR/home"
export RABBITMQ_CONF_ENV_FILE="$STATE_DIR/rabbitmq-env.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE_DIR/enabled_plugins"
export ERL_EPMD_ADDRESS=127.0.0.1

node_name() { echo "$1@$HOST"; }
node_index() { # rmq2 -> 1
  local i
  for i in "${!NODES[@]}"; do
    if [ "${NODES[$i]}" = "$1" ]; then
      echo "$i"
      return
    fi
  done
  die "no node $1"
}
amqp_port() { echo $((FIRST_AMQP_PORT + $(node_index "$1"))); }
dist_port() { echo $((FIRST_DIST_PORT + $(node_index "$1"))); }
pid_file() { echo "$STATE_DIR/$1/$1.pid"; }               # the Erlang VM's, written by the node
launcher_pid_file() { echo "$STATE_DIR/$1/launcher.pid"; } # rabbitmq-server's, written by `up`

cli() { # cli TOOL ARGS...: a CLI tool with the cluster's cookie (via HOME)
  local tool=$1
  shift
  "$RABBITMQ_SCRIPTS/$tool" "$@"
}
ctl() { # ctl NODE ARGS...
  local node=$1
  shift
  cli rabbitmqctl -q -n "$(node_name "$node")" "$@"
}
pings() { cli rabbitmq-diagnostics -q -n "$(node_name "$1")" ping >/dev/null 2>&1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- up ----------------------------------------------------------------------------------

write_state() {
  mkdir -p "$HOME"
  touch "$MARKER" "$RABBITMQ_CONF_ENV_FILE"
  echo "[]." >"$RABBITMQ_ENABLED_PLUGINS_FILE" # no plugin: management stays off
  (
    umask 077 # Erlang refuses a cookie file that others can read
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n' | tr a-f A-F >"$HOME/.erlang.cookie"
  )
  chmod 400 "$HOME/.erlang.cookie"
  local node
  for node in "${NODES[@]}"; do
    mkdir -p "$STATE_DIR/$node/log" "$STATE_DIR/$node/mnesia"
    {
      echo "listeners.tcp.local = 127.0.0.1:$(amqp_port "$node")"
      echo "log.console = false"
      echo "log.file.level = info"
    } >"$STATE_DIR/$node/$node.conf"
  done
}

start_node() { # in the background: `up` waits for the three together
  local node=$1 dir="$STATE_DIR/$1"
  (
    export RABBITMQ_NODENAME
    RABBITMQ_NODENAME="$(node_name "$node")"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT
    RABBITMQ_NODE_PORT="$(amqp_port "$node")"
    export RABBITMQ_DIST_PORT
    RABBITMQ_DIST_PORT="$(dist_port "$node")"
    export RABBITMQ_CONFIG_FILE="$dir/$node.conf"
    export RABBITMQ_MNESIA_BASE="$dir/mnesia"
    export RABBITMQ_LOG_BASE="$dir/log"
    export RABBITMQ_PID_FILE="$dir/$node.pid"
    # distribution on loopback only, as the system broker's rabbitmq-env.conf does
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    cd "$dir"
    # setsid: the node outlives this script and a Ctrl+C in its terminal
    setsid "$RABBITMQ_SCRIPTS/rabbitmq-server" >"$dir/log/startup.log" 2>&1 </dev/null &
    # rabbitmq-server stops its node on SIGTERM: `down` falls back on it when the node
    # has not written its own pid file yet
    echo "$!" >"$(launcher_pid_file "$node")"
  )
}

wait_for_node() {
  local node=$1 deadline=$((SECONDS + START_TIMEOUT))
  until pings "$node"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$(node_name "$node") did not answer ping within ${START_TIMEOUT} s; see $STATE_DIR/$node/log"
    fi
    sleep 1
  done
  ctl "$node" await_startup --timeout 60 >/dev/null
}

join_first_node() {
  local node=$1
  ctl "$node" stop_app >/dev/null
  ctl "$node" join_cluster "$(node_name "${NODES[0]}")" >/dev/null
  ctl "$node" start_app >/dev/null
  ctl "$node" await_startup --timeout 60 >/dev/null
}

check_ports_free() {
  local node port
  for node in "${NODES[@]}"; do
    for port in "$(amqp_port "$node")" "$(dist_port "$node")"; do
      if port_in_use "$port"; then
        die "port $port is already in use; is another broker or cluster running there?"
      fi
    done
  done
}

all_nodes_up() {
  local node
  for node in "${NODES[@]}"; do
    pings "$node" || return 1
  done
}

print_urls() {
  local node urls=()
  for node in "${NODES[@]}"; do
    urls+=("amqp://guest:guest@127.0.0.1:$(amqp_port "$node")/")
  done
  local IFS=,
  say "RABBITMQ_URL=${urls[*]}"
}

up_failed() {
  [ "$1" -eq 0 ] ||
    say "up failed: the nodes' logs are in $STATE_DIR/rmq*/log; '$0 down' stops what was started" >&2
}

up() {
  if [ -e "$MARKER" ]; then
    if [ -e "$FORMED" ] && all_nodes_up; then
      say "already up (state in $STATE_DIR)"
      print_urls
      return
    fi
    say "a previous cluster in $STATE_DIR is only partly running: tearing it down first"
    down
  elif [ -n "$(ls -A "$STATE_DIR" 2>/dev/null)" ]; then
    die "$STATE_DIR is not empty and was not made by this script; set RMQ_CLUSTER_DIR elsewhere"
  fi
  check_ports_free
  local started=$SECONDS node
  trap 'up_failed $?' EXIT
  write_state
  for node in "${NODES[@]}"; do
    start_node "$node"
  done
  for node in "${NODES[@]}"; do
    wait_for_node "$node"
  done
  # the first node is the seed; joining one at a time keeps mnesia's schema merge simple
  for node in "${NODES[@]:1}"; do
    join_first_node "$node"
  done
  touch "$FORMED"
  trap - EXIT
  say "up in $((SECONDS - started)) s: ${NODES[*]} on 127.0.0.1:$FIRST_AMQP_PORT-$((FIRST_AMQP_PORT + ${#NODES[@]} - 1)) (state in $STATE_DIR)"
  print_urls
}

# --- down --------------------------------------------------------------------------------

# The pid in a pid file, if that process still belongs to this node (a stale pid file
# could name a process that has since reused the pid).
live_pid() { # live_pid NODE PID_FILE
  local node=$1 file=$2 pid
  [ -s "$file" ] || return 1
  pid="$(tr -dc 0-9 <"$file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  if [ -d /proc ]; then # Linux: the process must be this node's, not a reuse of its pid
    { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null |
      grep -x "RABBITMQ_NODENAME=$(node_name "$node")" >/dev/null || return 1 # no -q: no SIGPIPE
  fi
  echo "$pid"
}

live_node_pid() { live_pid "$1" "$(pid_file "$1")"; }
running() { live_node_pid "$1" >/dev/null || live_pid "$1" "$(launcher_pid_file "$1")" >/dev/null; }

stop_node() {
  local node=$1 pid
  if pid="$(live_node_pid "$node")"; then
    # stop with the pid file returns once the process has exited
    if ! timeout 30 "$RABBITMQ_SCRIPTS/rabbitmqctl" -q -n "$(node_name "$node")" \
      stop "$(pid_file "$node")" >/dev/null 2>&1; then
      if pid="$(live_node_pid "$node")"; then
        say "$(node_name "$node") did not stop: killing its process $pid"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  stop_launcher "$node"
}

# A node stopped before it wrote its pid file (an interrupted `up`) still has its launcher.
stop_launcher() {
  local node=$1 pid
  pid="$(live_pid "$node" "$(launcher_pid_file "$node")")" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  say "$(node_name "$node") did not stop: its launcher $pid is still running"
}

down() {
  if [ ! -e "$MARKER" ]; then
    say "nothing to stop (no cluster state in $STATE_DIR)"
    return
  fi
  local node pids=()
  # in parallel: each stop takes a few seconds
  for node in "${NODES[@]}"; do
    stop_node "$node" &
    pids+=("$!")
  done
  for node in "${pids[@]}"; do
    wait "$node" || true
  done
  for node in "${NODES[@]}"; do
    if running "$node"; then
      die "$(node_name "$node") is still running; state kept in $STATE_DIR"
    fi
  done
  rm -rf "$STATE_DIR"
  say "down (removed $STATE_DIR)"
}

# --- status ------------------------------------------------------------------------------

status() {
  [ -e "$MARKER" ] || {
    say "down (no cluster state in $STATE_DIR)"
    return 1
  }
  local node
  for node in "${NODES[@]}"; do
    if pings "$node"; then
      ctl "$node" cluster_status
      return
    fi
  done
  say "no node answers (state in $STATE_DIR); run: $0 down"
  return 1
}

usage() {
  echo "usage: $0 up|down|status|cli rabbitmqctl|rabbitmq-diagnostics|rabbitmq-queues ARGS..." >&2
  exit 2
}

main() {
  [ $# -ge 1 ] || usage
  local command=$1
  shift
  case "$command" in
  up) up ;;
  down) down ;;
  status) status ;;
  cli)
    case "${1:-}" in
    rabbitmqctl | rabbitmq-diagnostics | rabbitmq-queues) cli "$@" ;;
    *) usage ;;
    esac
    ;;
  *) usage ;;
  esac
}

main "$@"
