#!/usr/bin/env bash
# A RabbitMQ node that speaks only TLS, on this machine, for trying amqps:// and the TLS
# tests, with throwaway certificates of its own.
#
#   scripts/local_tls_broker.sh up       make the certificates, start rmqtls@localhost, print
#                                        URLs to try
#   scripts/local_tls_broker.sh down     stop the node and delete everything it wrote
#   scripts/local_tls_broker.sh status   whether the node is up, and its listeners (exit 1
#                                        when it is not up)
#   scripts/local_tls_broker.sh cli TOOL ARGS...
#                                        rabbitmqctl, rabbitmq-diagnostics or rabbitmq-queues
#                                        with the node's cookie, e.g.
#                                        cli rabbitmqctl -n rmqtls@localhost list_connections
#                                        user peer_cert_subject
#
# rmqtls@localhost listens for AMQP over TLS on 127.0.0.1:5771 (no plain AMQP port) and for
# Erlang distribution on 127.0.0.1:25771. Its certificates (scripts/make_tls_certificates.sh:
# a CA, the server's for the name localhost, a client's with CN=work-queues-client) are in
# certs/ of its state directory, RMQ_TLS_DIR (default ${TMPDIR:-/tmp}/rmq-local-tls), beside
# its data, logs, pid file and Erlang cookie. It asks every client for a certificate and
# checks the ones it gets against that CA (verify_peer), but lets clients without one in
# (fail_if_no_peer_cert = false). Logins: guest/guest (from this machine), or EXTERNAL
# with the client certificate (the rabbitmq_auth_mechanism_ssl plugin; the certificate's
# CN is the user name, and `up` creates that user, password-less, with every permission
# on /). The management plugin is off; the broker on 5672 (rabbit@localhost) is never
# touched. The node boots in 15-30 s on a 2-CPU machine.
# Environment: RMQ_TLS_DIR, RMQ_TLS_PORT (default 5771), RMQ_TLS_DIST_PORT (default 25771),
# RMQ_START_TIMEOUT, RMQ_SCRIPTS_DIR (see scripts/rabbitmq_node.sh).
set -euo pipefail

SCRIPT_NAME=local_tls_broker
STATE_VARIABLE=RMQ_TLS_DIR
STATE_DIR="${RMQ_TLS_DIR:-${TMPDIR:-/tmp}/rmq-local-tls}"
SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/rabbitmq_node.sh
source "$SCRIPTS/rabbitmq_node.sh"

NODE=rmqtls
NODES=("$NODE")
TLS_PORT="${RMQ_TLS_PORT:-5771}"
DIST_PORT="${RMQ_TLS_DIST_PORT:-25771}"
CERTS="$STATE_DIR/certs"
CLIENT_CN=work-queues-client # the EXTERNAL user: the client certificate's CN

write_state() {
  write_node_state rabbitmq_auth_mechanism_ssl # EXTERNAL: log in by certificate
  make_node_dirs "$NODE"
  TLS_CLIENT_CN="$CLIENT_CN" bash "$SCRIPTS/make_tls_certificates.sh" "$CERTS" >/dev/null
  cat >"$(node_dir "$NODE")/$NODE.conf" <<EOF
listeners.tcp = none
listeners.ssl.default = 127.0.0.1:$TLS_PORT
ssl_options.cacertfile = $CERTS/ca_certificate.pem
ssl_options.certfile = $CERTS/server_certificate.pem
ssl_options.keyfile = $CERTS/server_key.pem
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
log.console = false
log.file.level = info
EOF
}

add_external_user() { # a user named after the client certificate, with no password
  ctl "$NODE" add_user "$CLIENT_CN" "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >/dev/null
  ctl "$NODE" clear_password "$CLIENT_CN" >/dev/null
  ctl "$NODE" set_permissions -p / "$CLIENT_CN" ".*" ".*" ".*" >/dev/null
}

print_urls() {
  local base="amqps://localhost:$TLS_PORT/" ca="cacertfile=$CERTS/ca_certificate.pem"
  local client="certfile=$CERTS/client_certificate.pem&keyfile=$CERTS/client_key.pem"
  say "URLs to try (RABBITMQ_URL=... or --url ...):"
  echo "  amqps://guest:guest@localhost:$TLS_PORT/?$ca"
  echo "  amqps://localhost:$TLS_PORT/?$ca&$client&auth_mechanism=external"
  echo "  SSL_CERT_FILE=$CERTS/ca_certificate.pem with amqps://guest:guest@localhost:$TLS_PORT/"
  say "and to see the failures: ${base} (no cacertfile: an unknown CA),"
  say "amqps://guest:guest@127.0.0.1:$TLS_PORT/?$ca (a name the certificate does not cover),"
  say "amqp://guest:guest@localhost:$TLS_PORT/ (plain AMQP to a TLS port)"
}

up() {
  if already_up "$NODE"; then
    say "already up (state in $STATE_DIR)"
    print_urls
    return
  fi
  local started=$SECONDS
  check_ports_free "$TLS_PORT" "$DIST_PORT"
  trap 'up_failed $?' EXIT
  write_state
  start_node "$NODE" "$DIST_PORT"
  wait_for_node "$NODE"
  add_external_user
  touch "$FORMED"
  trap - EXIT
  say "up in $((SECONDS - started)) s: $(node_name "$NODE"), AMQP over TLS on 127.0.0.1:$TLS_PORT (state in $STATE_DIR)"
  print_urls
}

status() {
  have_state || return 1
  if ! pings "$NODE"; then
    say "$(node_name "$NODE") does not answer (state in $STATE_DIR); run: $0 down"
    return 1
  fi
  say "$(node_name "$NODE") is up (state in $STATE_DIR); its listeners:"
  cli rabbitmq-diagnostics -q -n "$(node_name "$NODE")" listeners
}


main "$@"
