#!/usr/bin/env bash
# Make sure a RabbitMQ broker with the management plugin runs on this machine:
# start it if it is installed but stopped, install it (Debian/Ubuntu) if it is missing,
# enable rabbitmq_management, and wait until the node and the admin panel answer.
set -euo pipefail

say() { echo "ensure_rabbitmq: $*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# rabbitmq-* live in /usr/sbin, which a non-root PATH may not include
export PATH="$PATH:/usr/sbin:/sbin"

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    say "RabbitMQ is not installed: installing it with apt-get (Debian's rabbitmq-server)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  else
    say "RabbitMQ is not installed and this is not Debian or Ubuntu. Install it"
    say "(https://www.rabbitmq.com/docs/download) or run it with Docker:"
    say "  docker run -d --name rabbitmq -p 5672:5672 -p 15672:15672 rabbitmq:3-management"
    exit 1
  fi
fi

ping_node() { $SUDO rabbitmq-diagnostics -q ping >/dev/null 2>&1; }

if ! ping_node; then
  say "starting RabbitMQ (rabbitmq-server -detached)"
  $SUDO rabbitmq-server -detached >/dev/null 2>&1 || true
fi
for _ in $(seq 1 90); do
  ping_node && break
  sleep 1
done
if ! ping_node; then
  say "RabbitMQ did not start within 90 s; see its log in /var/log/rabbitmq/"
  exit 1
fi
$SUDO rabbitmqctl -q await_startup --timeout 60 >/dev/null

$SUDO rabbitmq-plugins -q enable rabbitmq_management >/dev/null
for _ in $(seq 1 60); do
  if python3 - <<'PY' 2>/dev/null
import base64, urllib.request
request = urllib.request.Request("http://127.0.0.1:15672/api/overview")
request.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
urllib.request.urlopen(request, timeout=2).read()
PY
  then
    say "RabbitMQ is running: AMQP on localhost:5672, admin panel on http://localhost:15672"
    exit 0
  fi
  sleep 1
done
say "the admin panel (rabbitmq_management) did not answer on port 15672 within 60 s"
exit 1
