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

SCRIPT_NAME=local_cluster
STATE_VARIABLE=RMQ_CLUSTER_DIR
STATE_DIR="${RMQ_CLUSTER_DIR:-${TMPDIR:-/tmp}/rmq-local-cluster}"
# shellcheck source=scripts/rabbitmq_node.sh
source "$(dirname "${BASH_SOURCE[0]}")/rabbitmq_node.sh"

NODES=(rmq1 rmq2 rmq3)
FIRST_AMQP_PORT=5701
FIRST_DIST_PORT=25701

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

# --- up ----------------------------------------------------------------------------------

write_state() {
  write_node_state # no plugin: management stays off
  local node
  for node in "${NODES[@]}"; do
    make_node_dirs "$node"
    {
      echo "listeners.tcp.local = 127.0.0.1:$(amqp_port "$node")"
      echo "log.console = false"
      echo "log.file.level = info"
    } >"$(node_dir "$node")/$node.conf"
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

up() {
  if already_up "${NODES[@]}"; then
    say "already up (state in $STATE_DIR)"
    print_urls
    return
  fi
  local started=$SECONDS node
  for node in "${NODES[@]}"; do
    check_ports_free "$(amqp_port "$node")" "$(dist_port "$node")"
  done
  trap 'up_failed $?' EXIT
  write_state
  for node in "${NODES[@]}"; do # the three boot at once: `up` waits for them together
    start_node "$node" "$(dist_port "$node")" \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 "RABBITMQ_NODE_PORT=$(amqp_port "$node")"
  done
  for node in "${NODES[@]}"; do
    wait_for_node "$node"
  done
  join_the_first_node_in_turn
  touch "$FORMED"
  trap - EXIT
  say "up in $((SECONDS - started)) s: ${NODES[*]} on 127.0.0.1:$FIRST_AMQP_PORT-$((FIRST_AMQP_PORT + ${#NODES[@]} - 1)) (state in $STATE_DIR)"
  print_urls
}

# --- status ------------------------------------------------------------------------------

status() {
  have_state || return 1
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


main "$@"
