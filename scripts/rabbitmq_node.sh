# shellcheck shell=bash
# RabbitMQ nodes of our own beside the system broker: what local_broker.sh,
# local_cluster.sh and local_tls_broker.sh share. Sourced, never run.
#
# Before sourcing, set:
#   SCRIPT_NAME       the prefix of every line printed (say, die)
#   STATE_DIR         where the nodes' data, logs, pid files and Erlang cookie live
#   STATE_VARIABLE    the environment variable that moves STATE_DIR (named in messages)
# then define NODES (the nodes' short names), up and status, and end with main "$@": the
# commands `down` (down_nodes) and `cli` are the same for every script. Each node NODE runs
# as NODE@localhost from $STATE_DIR/NODE, with the configuration file
# $STATE_DIR/NODE/NODE.conf that the caller writes. The nodes read none of /etc/rabbitmq
# and share only epmd with the system broker (rabbit@localhost on 5672), which is never
# touched. Environment: RMQ_START_TIMEOUT (seconds a node may take to answer ping,
# default 120), RMQ_SCRIPTS_DIR (where rabbitmq-server and rabbitmqctl are, found by
# default).

HOST=localhost
START_TIMEOUT="${RMQ_START_TIMEOUT:-120}" # 15-30 s here for one node, more when several boot
MARKER="$STATE_DIR/.$SCRIPT_NAME" # `down` deletes only a directory that `up` made
FORMED="$STATE_DIR/.formed"       # `up` went all the way

say() { echo "$SCRIPT_NAME: $*"; }
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

# Settings every node and every CLI call share. HOME holds our own .erlang.cookie; the
# empty env file stands in for /etc/rabbitmq/rabbitmq-env.conf (NODENAME=rabbit@localhost).
export HOME="$STATE_DIR/home"
export RABBITMQ_CONF_ENV_FILE="$STATE_DIR/rabbitmq-env.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE_DIR/enabled_plugins"
export ERL_EPMD_ADDRESS=127.0.0.1

node_name() { echo "$1@$HOST"; }
node_dir() { echo "$STATE_DIR/$1"; }
pid_file() { echo "$STATE_DIR/$1/$1.pid"; }               # the Erlang VM's, written by the node
launcher_pid_file() { echo "$STATE_DIR/$1/launcher.pid"; } # rabbitmq-server's, written by `up`

cli() { # cli TOOL ARGS...: a CLI tool with our cookie (via HOME)
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

join_first_node() { # join_first_node NODE: NODE joins the cluster of ${NODES[0]}
  local node=$1
  ctl "$node" stop_app >/dev/null
  # join_cluster logs the joining node's errors about its peers as it restarts: to the log
  ctl "$node" join_cluster "$(node_name "${NODES[0]}")" >/dev/null 2>>"$(node_dir "$node")/log/join.log"
  ctl "$node" start_app >/dev/null
  ctl "$node" await_startup --timeout 60 >/dev/null
}

join_the_first_node_in_turn() { # every other node joins ${NODES[0]}, then all are online
  local node
  # one at a time keeps mnesia's schema merge simple
  for node in "${NODES[@]:1}"; do
    join_first_node "$node"
  done
  # a quorum queue gets replicas only on the nodes its node sees running: wait for them all
  ctl "${NODES[0]}" await_online_nodes "${#NODES[@]}" --timeout 60 >/dev/null
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports_free() { # check_ports_free PORT...
  local port
  for port in "$@"; do
    if port_in_use "$port"; then
      die "port $port is already in use; is another broker or node running there?"
    fi
  done
}


# --- up ----------------------------------------------------------------------------------

# true when an earlier `up` went all the way and its nodes still answer; an earlier `up`
# that did not is torn down first
already_up() { # already_up NODE...
  if [ -e "$MARKER" ]; then
    if [ -e "$FORMED" ] && all_nodes_up "$@"; then
      return 0
    fi
    say "a previous run in $STATE_DIR is only partly running: tearing it down first"
    down_nodes "$@"
  elif [ -n "$(ls -A "$STATE_DIR" 2>/dev/null)" ]; then
    die "$STATE_DIR is not empty and was not made by this script; set $STATE_VARIABLE elsewhere"
  fi
  return 1
}

all_nodes_up() { # all_nodes_up NODE...
  local node
  for node in "$@"; do
    pings "$node" || return 1
  done
}

write_node_state() { # write_node_state PLUGIN... (none: the management plugin stays off)
  mkdir -p "$HOME"
  touch "$MARKER" "$RABBITMQ_CONF_ENV_FILE"
  local IFS=,
  echo "[$*]." >"$RABBITMQ_ENABLED_PLUGINS_FILE"
  (
    umask 077 # Erlang refuses a cookie file that others can read
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n' | tr a-f A-F >"$HOME/.erlang.cookie"
  )
  chmod 400 "$HOME/.erlang.cookie"
}

make_node_dirs() { mkdir -p "$STATE_DIR/$1/log" "$STATE_DIR/$1/mnesia"; }

start_node() { # start_node NODE DIST_PORT [VARIABLE=VALUE...]: in the background
  local node=$1 dist_port=$2 dir="$STATE_DIR/$1"
  shift 2
  (
    export RABBITMQ_NODENAME
    RABBITMQ_NODENAME="$(node_name "$node")"
    export RABBITMQ_DIST_PORT="$dist_port"
    export RABBITMQ_CONFIG_FILE="$dir/$node.conf"
    export RABBITMQ_MNESIA_BASE="$dir/mnesia"
    export RABBITMQ_LOG_BASE="$dir/log"
    export RABBITMQ_PID_FILE="$dir/$node.pid"
    # distribution on loopback only, as the system broker's rabbitmq-env.conf does
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    local setting
    for setting in "$@"; do
      export "${setting?}"
    done
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

up_failed() { # the EXIT trap of an `up` that may fail halfway
  [ "$1" -eq 0 ] ||
    say "up failed: the logs are in $STATE_DIR/*/log; '$0 down' stops what was started" >&2
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

# Stop the nodes (in parallel: each stop takes a few seconds), then delete STATE_DIR.
down_nodes() { # down_nodes NODE...
  if [ ! -e "$MARKER" ]; then
    say "nothing to stop (no state in $STATE_DIR)"
    return
  fi
  local node pids=()
  for node in "$@"; do
    stop_node "$node" &
    pids+=("$!")
  done
  for node in "${pids[@]}"; do
    wait "$node" || true
  done
  for node in "$@"; do
    if running "$node"; then
      die "$(node_name "$node") is still running; state kept in $STATE_DIR"
    fi
  done
  rm -rf "$STATE_DIR"
  say "down (removed $STATE_DIR)"
}

# --- status ------------------------------------------------------------------------------

have_state() { # have_state: false, saying so, when there is nothing to show
  [ -e "$MARKER" ] && return
  say "down (no state in $STATE_DIR)"
  return 1
}

# --- the command line --------------------------------------------------------------------

usage() {
  echo "usage: $0 up|down|status|cli rabbitmqctl|rabbitmq-diagnostics|rabbitmq-queues ARGS..." >&2
  exit 2
}

# main "$@": the scripts' commands. The script defines NODES and its own up and status.
main() {
  [ $# -ge 1 ] || usage
  local command=$1
  shift
  case "$command" in
  up) up ;;
  down) down_nodes "${NODES[@]}" ;;
  status) status ;;
  cli) # RabbitMQ's own CLI tools only, with the nodes' cookie
    case "${1:-}" in
    rabbitmqctl | rabbitmq-diagnostics | rabbitmq-queues) cli "$@" ;;
    *) usage ;;
    esac
    ;;
  *) usage ;;
  esac
}
