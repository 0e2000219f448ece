#!/usr/bin/env bash
# A single throwaway RabbitMQ node on this machine, beside the system broker: for tests
# and experiments that stop it, restart it or raise its resource alarms, which must never
# happen to the broker on 5672 that the user's own workers use.
#
#   scripts/local_broker.sh up       start rmqscratch@localhost, print its URL
#   scripts/local_broker.sh down     stop the node and delete everything it wrote
#   scripts/local_broker.sh status   whether the node is up (exit 1 when it is not)
#   scripts/local_broker.sh cli TOOL ARGS...
#                                    rabbitmqctl, rabbitmq-diagnostics or rabbitmq-queues
#                                    with the node's cookie, e.g.
#                                    cli rabbitmqctl -n rmqscratch@localhost stop_app
#
# rmqscratch@localhost listens for AMQP on 127.0.0.1:5781 and for Erlang distribution on
# 127.0.0.1:25781; its data, logs, pid file and Erlang cookie live in RMQ_SCRATCH_DIR
# (default ${TMPDIR:-/tmp}/rmq-local-broker). The management plugin is off; guest/guest
# logs in from this machine. The node boots in 6-30 s on a 2-CPU machine.
# Environment: RMQ_SCRATCH_DIR, RMQ_SCRATCH_NODE (the node's short name, default
# rmqscratch), RMQ_SCRATCH_PORT (default 5781), RMQ_SCRATCH_DIST_PORT (default 25781),
# RMQ_START_TIMEOUT, RMQ_SCRIPTS_DIR (see scripts/rabbitmq_node.sh). The tests give each
# node of theirs its own name and ports, so that several test runs never share one.
set -euo pipefail

SCRIPT_NAME=local_broker
STATE_VARIABLE=RMQ_SCRATCH_DIR
STATE_DIR="${RMQ_SCRATCH_DIR:-${TMPDIR:-/tmp}/rmq-local-broker}"
SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/rabbitmq_node.sh
source "$SCRIPTS/rabbitmq_node.sh"

NODE="${RMQ_SCRATCH_NODE:-rmqscratch}"
NODES=("$NODE")
AMQP_PORT="${RMQ_SCRATCH_PORT:-5781}"
DIST_PORT="${RMQ_SCRATCH_DIST_PORT:-25781}"

write_state() {
  write_node_state
  make_node_dirs "$NODE"
  cat >"$(node_dir "$NODE")/$NODE.conf" <<CONF
listeners.tcp.local = 127.0.0.1:$AMQP_PORT
log.console = false
log.file.level = info
CONF
}

up() {
  if already_up "$NODE"; then
    say "already up (state in $STATE_DIR)"
    say "RABBITMQ_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/"
    return
  fi
  local started=$SECONDS
  check_ports_free "$AMQP_PORT" "$DIST_PORT"
  trap 'up_failed $?' EXIT
  write_state
  start_node "$NODE" "$DIST_PORT"
  wait_for_node "$NODE"
  touch "$FORMED"
  trap - EXIT
  say "up in $((SECONDS - started)) s: $(node_name "$NODE"), AMQP on 127.0.0.1:$AMQP_PORT (state in $STATE_DIR)"
  say "RABBITMQ_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/"
}

status() {
  have_state || return 1
  if ! pings "$NODE"; then
    say "$(node_name "$NODE") does not answer (state in $STATE_DIR); run: $0 down"
    return 1
  fi
  say "$(node_name "$NODE") is up, AMQP on 127.0.0.1:$AMQP_PORT (state in $STATE_DIR)"
}

main "$@"
