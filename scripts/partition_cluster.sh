#!/usr/bin/env bash
# A three-node RabbitMQ cluster whose network can be cut: each node in a network namespace
# of its own, with one link per pair of nodes and one link to this machine's own namespace
# (where the clients run). Needs root (ip netns). Used by `make partition` (tools/partition.py).
#
#   scripts/partition_cluster.sh up       make the namespaces and links, start rmq1..rmq3, form the cluster
#   scripts/partition_cluster.sh down     stop the nodes, delete namespaces, links and every file they wrote
#   scripts/partition_cluster.sh status   the links and routes, and what each node thinks of the cluster
#   scripts/partition_cluster.sh cut clean|silent isolate|bridge NODE
#        clean: the links go down. silent: blackhole routes drop the packets, nothing answers.
#        isolate NODE: NODE loses the other two nodes and its clients.
#        bridge NODE: NODE still sees both others, but they no longer see each other.
#   scripts/partition_cluster.sh heal     every link up, every route back
#   scripts/partition_cluster.sh restart NODE
#        kill NODE's Erlang VM and start it again, as an operator restarts a node stuck
#        starting (a stuck boot does not stop on request); returns once it runs
#   scripts/partition_cluster.sh cli NODE TOOL ARGS...
#        rabbitmqctl, rabbitmq-diagnostics or rabbitmq-queues, run in NODE's namespace, e.g.
#        cli rmq1 rabbitmqctl list_queues name leader members
#
# Node rmqN (N = 1..3) runs as rmqN@10.77.0.N in namespace rmqpartN, where 10.77.0.N is its
# own address; AMQP on 10.77.0.N:571N, Erlang distribution on port 2571N, an epmd of its own
# (each namespace has its own ports). Long node names carry the address itself, so no host
# name needs resolving. The cluster runs with cluster_partition_handling = pause_minority
# (docs/partitions.md says why), net_ticktime PARTITION_TICKTIME seconds (default 6) and a
# heartbeat of PARTITION_HEARTBEAT seconds (default 4) on the broker side.
# Connect with RABBITMQ_URL=amqp://guest:guest@10.77.0.1:5711/,amqp://...10.77.0.2:5712/,...
# (guest may log in from other hosts here: loopback_users is emptied).
#
# The broker on 5672 and scripts/local_cluster.sh's nodes are never touched: other names,
# ports, namespaces and state directory (PARTITION_CLUSTER_DIR, default
# ${TMPDIR:-/tmp}/rmq-partition-cluster). `down` also cleans up after an `up` that failed
# halfway, and after a killed run.
set -euo pipefail

SCRIPT_NAME=partition_cluster
STATE_VARIABLE=PARTITION_CLUSTER_DIR
STATE_DIR="${PARTITION_CLUSTER_DIR:-${TMPDIR:-/tmp}/rmq-partition-cluster}"
# shellcheck source=scripts/rabbitmq_node.sh
source "$(dirname "${BASH_SOURCE[0]}")/rabbitmq_node.sh"

NODES=(rmq1 rmq2 rmq3)
TICKTIME="${PARTITION_TICKTIME:-6}"
HEARTBEAT="${PARTITION_HEARTBEAT:-4}"
# Each namespace has its own epmd, listening on the namespace's addresses.
unset ERL_EPMD_ADDRESS
# Every process started from here (a node, its epmd, a CLI call) carries it: `down` finds
# them by it, even in a namespace that is no longer named.
export PARTITION_CLUSTER_STATE="$STATE_DIR"
# Nodes named rmqN@10.77.0.N: long names, whose host part is the address itself.
export RABBITMQ_USE_LONGNAME=true

# --- names and addresses -----------------------------------------------------------------

number() { echo "${1#rmq}"; }                          # rmq2 -> 2
namespace() { echo "rmqpart$(number "$1")"; }          # rmq2 -> rmqpart2
address() { echo "10.77.0.$(number "$1")"; }           # the node's own address
amqp_port() { echo "571$(number "$1")"; }
dist_port() { echo "2571$(number "$1")"; }
host_side() { echo "10.77.$(number "$1").254"; }       # this machine, on its link to the node
node_side() { echo "10.77.$(number "$1").1"; }         # the node's end of that link
host_link() { echo "rmqph$(number "$1")"; }            # the link's end in this machine's namespace
client_link() { echo "rmqpc$(number "$1")"; }          # its end in the node's namespace
pair_link() { echo "rmqp$(number "$1")$(number "$2")"; } # NODE's end of the link to OTHER
node_name() { echo "$1@$(address "$1")"; }
others() { # the two nodes besides NODE
  local node
  for node in "${NODES[@]}"; do
    [ "$node" = "$1" ] || echo "$node"
  done
}
in_ns() { # in_ns NODE COMMAND...: run COMMAND in the node's namespace
  local node=$1
  shift
  ip netns exec "$(namespace "$node")" "$@"
}

# The CLI runs in the node's namespace (it talks to that namespace's epmd), with our cookie.
ctl() { # ctl NODE ARGS...
  local node=$1
  shift
  in_ns "$node" "$RABBITMQ_SCRIPTS/rabbitmqctl" -q -n "$(node_name "$node")" "$@"
}
pings() {
  in_ns "$1" "$RABBITMQ_SCRIPTS/rabbitmq-diagnostics" -q -n "$(node_name "$1")" ping \
    >/dev/null 2>&1
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "network namespaces need root: run as root (sudo $0 ...)"
  command -v ip >/dev/null 2>&1 || die "the ip command (iproute2) is missing; install iproute2"
}

# --- the network -------------------------------------------------------------------------

make_namespace() {
  local node=$1 ns
  ns="$(namespace "$node")"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$(address "$node")/32" dev lo
  # the link to this machine: the clients, and the scripts' CLI calls
  ip link add "$(host_link "$node")" type veth peer name "$(client_link "$node")" netns "$ns"
  ip addr add "$(host_side "$node")/24" dev "$(host_link "$node")"
  ip -n "$ns" addr add "$(node_side "$node")/24" dev "$(client_link "$node")"
}

make_pair_link() { # make_pair_link NODE OTHER
  ip link add "$(pair_link "$1" "$2")" netns "$(namespace "$1")" type veth \
    peer name "$(pair_link "$2" "$1")" netns "$(namespace "$2")"
}

# Every link up and every route as `up` made it: the healed state. `ip link set down`
# drops the routes through a link, and a cut replaces routes with blackholes.
connect_all() {
  local node other ns
  for node in "${NODES[@]}"; do
    ns="$(namespace "$node")"
    ip link set "$(host_link "$node")" up
    ip -n "$ns" link set "$(client_link "$node")" up
    ip -n "$ns" route del blackhole "$(host_side "$node")/32" 2>/dev/null || true
    ip route replace "$(address "$node")/32" via "$(node_side "$node")"
    for other in $(others "$node"); do
      ip -n "$ns" link set "$(pair_link "$node" "$other")" up
      ip -n "$ns" route replace "$(address "$other")/32" dev "$(pair_link "$node" "$other")" \
        src "$(address "$node")"
    done
  done
}

make_network() {
  local node
  for node in "${NODES[@]}"; do
    make_namespace "$node"
  done
  make_pair_link rmq1 rmq2
  make_pair_link rmq1 rmq3
  make_pair_link rmq2 rmq3
  connect_all
}

delete_network() {
  local node
  for node in "${NODES[@]}"; do
    ip netns del "$(namespace "$node")" 2>/dev/null || true
    # deleting a namespace does not always delete the veth end left in this one
    ip link del "$(host_link "$node")" 2>/dev/null || true
    ip route del "$(address "$node")/32" 2>/dev/null || true
  done
}

# --- cuts --------------------------------------------------------------------------------

# clean: a link down, at both ends at once (a veth pair goes down together).
clean_cut_pair() { ip -n "$(namespace "$1")" link set "$(pair_link "$1" "$2")" down; }
clean_cut_clients() { ip link set "$(host_link "$1")" down; }

# silent: each side drops what it sends to the other; packets vanish, nothing answers.
silent_cut_pair() { # silent_cut_pair NODE OTHER
  ip -n "$(namespace "$1")" route replace blackhole "$(address "$2")/32"
  ip -n "$(namespace "$2")" route replace blackhole "$(address "$1")/32"
}
silent_cut_clients() {
  ip route replace blackhole "$(address "$1")/32"
  ip -n "$(namespace "$1")" route replace blackhole "$(host_side "$1")/32"
}

cut() { # cut clean|silent isolate|bridge NODE
  [ $# -eq 3 ] || usage
  local kind=$1 shape=$2 node=$3 pair=() other
  case "$kind" in clean | silent) ;; *) usage ;; esac
  case " ${NODES[*]} " in *" $node "*) ;; *) die "no node $node (the nodes: ${NODES[*]})" ;; esac
  have_state || exit 1
  mapfile -t pair < <(others "$node")
  case "$shape" in
  isolate)
    for other in "${pair[@]}"; do
      "${kind}_cut_pair" "$node" "$other"
    done
    "${kind}_cut_clients" "$node"
    say "cut ($kind): $node isolated from ${pair[*]} and from its clients"
    ;;
  bridge)
    "${kind}_cut_pair" "${pair[0]}" "${pair[1]}"
    say "cut ($kind): ${pair[0]} and ${pair[1]} no longer see each other; $node sees both"
    ;;
  *) usage ;;
  esac
}

heal() {
  have_state || exit 1
  connect_all
  say "healed: every link up, every route back"
}

restart() { # restart NODE
  [ $# -eq 1 ] || usage
  local node=$1 pid
  case " ${NODES[*]} " in *" $node "*) ;; *) die "no node $node (the nodes: ${NODES[*]})" ;; esac
  have_state || exit 1
  if pid="$(live_node_pid "$node")"; then
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  stop_launcher "$node"
  in_ns "$node" "$0" start-node "$node"
  wait_for_node "$node"
  say "restarted $(node_name "$node")"
}

# --- up ----------------------------------------------------------------------------------

write_state() {
  write_node_state # no plugin: management stays off
  local node
  for node in "${NODES[@]}"; do
    make_node_dirs "$node"
    {
      echo "listeners.tcp.1 = $(address "$node"):$(amqp_port "$node")"
      echo "loopback_users = none" # the clients come from this machine's namespace
      echo "cluster_partition_handling = pause_minority"
      echo "heartbeat = $HEARTBEAT"
      echo "log.console = false"
      echo "log.file.level = info"
    } >"$(node_dir "$node")/$node.conf"
  done
}

start_in_namespace() { # run as `$0 start-node NODE` in the node's namespace
  local node=$1 a
  a="$(address "$node" | tr . ,)"
  start_node "$node" "$(dist_port "$node")" "RABBITMQ_NODE_IP_ADDRESS=$(address "$node")" \
    "RABBITMQ_NODE_PORT=$(amqp_port "$node")" \
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {$a} -kernel net_ticktime $TICKTIME"
}

print_urls() {
  local node urls=()
  for node in "${NODES[@]}"; do
    urls+=("amqp://guest:guest@$(address "$node"):$(amqp_port "$node")/")
  done
  local IFS=,
  say "RABBITMQ_URL=${urls[*]}"
}

up() {
  need_root
  if already_up "${NODES[@]}"; then
    say "already up (state in $STATE_DIR)"
    print_urls
    return
  fi
  local started=$SECONDS node
  for node in "${NODES[@]}"; do
    if ip netns list | grep -qw "$(namespace "$node")"; then
      die "namespace $(namespace "$node") exists, without our state: run '$0 down' first"
    fi
  done
  trap 'up_failed $?' EXIT
  write_state
  make_network
  for node in "${NODES[@]}"; do # the three boot at once: `up` waits for them together
    in_ns "$node" "$0" start-node "$node"
  done
  for node in "${NODES[@]}"; do
    wait_for_node "$node"
  done
  join_the_first_node_in_turn
  touch "$FORMED"
  trap - EXIT
  say "up in $((SECONDS - started)) s: ${NODES[*]} (state in $STATE_DIR)"
  print_urls
}

# --- down --------------------------------------------------------------------------------

own_pids() { # the processes started with our state, whichever namespace they are in
  grep -lzx "PARTITION_CLUSTER_STATE=$STATE_DIR" /proc/[0-9]*/environ 2>/dev/null |
    sed 's|^/proc/\([0-9]*\)/environ$|\1|' || true
}

# Stop the nodes (the data is thrown away: no need for a clean stop), then whatever else
# runs in their namespaces (epmd), then the network and the state directory.
down() {
  need_root
  local node ns pid
  for pid in $(own_pids); do # (the grep and sed that listed them have exited by now)
    [ "$pid" = "$$" ] || kill -KILL "$pid" 2>/dev/null || true
  done
  for node in "${NODES[@]}"; do
    ns="$(namespace "$node")"
    if ip netns list | grep -qw "$ns"; then
      for pid in $(ip netns pids "$ns"); do
        kill -KILL "$pid" 2>/dev/null || true
      done
    fi
    stop_launcher "$node" # a node killed as it booted may leave its launcher behind
  done
  for node in "${NODES[@]}"; do
    ns="$(namespace "$node")"
    if ip netns list | grep -qw "$ns"; then
      for _ in $(seq 1 50); do
        [ -z "$(ip netns pids "$ns")" ] && break
        sleep 0.1
      done
    fi
  done
  delete_network
  if [ -e "$MARKER" ]; then
    rm -rf "$STATE_DIR"
  fi
  say "down: no namespace, link or node left (removed $STATE_DIR)"
}

# --- status ------------------------------------------------------------------------------

status() {
  have_state || return 1
  local node ns
  for node in "${NODES[@]}"; do
    ns="$(namespace "$node")"
    echo "== $(node_name "$node") in $ns"
    ip -n "$ns" -br link | grep -v '^lo' || true
    ip -n "$ns" route
    if pings "$node"; then
      ctl "$node" cluster_status --formatter json 2>/dev/null |
        grep -o '"partitions":[^]]*]' || echo "(no cluster status)"
    else
      echo "(does not answer ping: paused, or down)"
    fi
  done
}

# --- the command line --------------------------------------------------------------------

usage() {
  echo "usage: $0 up|down|status|heal|cut clean|silent isolate|bridge NODE|restart NODE|cli NODE TOOL ARGS..." >&2
  exit 2
}

case "${1:-}" in
up | down | status | heal) "$1" ;;
cut | restart)
  need_root
  "$@"
  ;;
start-node) start_in_namespace "$2" ;; # internal: `up` runs it inside the namespace
cli)
  [ $# -ge 3 ] || usage
  case "$3" in
  rabbitmqctl | rabbitmq-diagnostics | rabbitmq-queues) ;;
  *) usage ;;
  esac
  node=$2
  shift 2
  tool=$1
  shift
  in_ns "$node" "$RABBITMQ_SCRIPTS/$tool" -n "$(node_name "$node")" "$@"
  ;;
*) usage ;;
esac
