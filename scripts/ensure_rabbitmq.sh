#!/usr/bin/env bash
# Make sure a RabbitMQ broker with the management plugin runs on this machine:
# nothing to do when AMQP (5672) and the admin panel (15672) already answer; otherwise
# start it if it is installed but stopped, install it (Debian/Ubuntu) if it is missing,
# enable rabbitmq_management, and wait until the node and the admin panel answer. On
# macOS it only says the Homebrew command to run (brew services start rabbitmq).
set -euo pipefail

say() { echo "ensure_rabbitmq: $*"; }
die() {
  say "$*" >&2
  exit 1
}
# rabbitmq-* live in /usr/sbin, which a non-root PATH may not include
export PATH="$PATH:/usr/sbin:/sbin"

amqp_answers() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
admin_panel_answers() {
  python3 - <<'PY' 2>/dev/null
import base64, urllib.request
request = urllib.request.Request("http://127.0.0.1:15672/api/overview")
request.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
urllib.request.urlopen(request, timeout=2).read()
PY
}
running_message() {
  say "RabbitMQ is running: AMQP on localhost:5672, admin panel on http://localhost:15672"
}

# A broker that already answers needs nothing, and no root rights.
if amqp_answers && admin_panel_answers; then
  running_message
  exit 0
fi

# macOS: Homebrew's RabbitMQ runs as the user, from Homebrew's own data and config; sudo
# rabbitmq-server would start another node as root over them. Say what to run, and stop.
if [ "$(uname -s)" = Darwin ]; then
  if amqp_answers; then
    die "RabbitMQ answers on localhost:5672 but its admin panel does not on 15672; enable it: rabbitmq-plugins enable rabbitmq_management (no sudo with Homebrew's RabbitMQ)"
  elif command -v brew >/dev/null 2>&1 && brew list rabbitmq >/dev/null 2>&1; then
    die "RabbitMQ is not running on localhost:5672; start it with Homebrew: brew services start rabbitmq (no sudo), then run this again"
  else
    die "RabbitMQ is not installed; install and start it with Homebrew: brew install rabbitmq && brew services start rabbitmq (docs/macos.md)"
  fi
fi

# Starting, installing or configuring the broker needs root: as another user, sudo, and
# its own error if it cannot (no terminal to ask for a password, not in sudoers, ...).
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    die "RabbitMQ is not running on localhost:5672 with its admin panel, and starting it needs root; run this script as root, or start the broker yourself"
  fi
  if ! sudo_error="$(sudo -v 2>&1)"; then
    die "RabbitMQ is not running on localhost:5672 with its admin panel, and starting it needs root, but sudo said: ${sudo_error:-no}; start the broker as root (sudo rabbitmq-server -detached; sudo rabbitmq-plugins enable rabbitmq_management)"
  fi
  SUDO=(sudo)
fi
as_root() { "${SUDO[@]}" "$@"; }

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    say "RabbitMQ is not installed: installing it with apt-get (Debian's rabbitmq-server)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  else
    say "RabbitMQ is not installed and this is not Debian or Ubuntu. Install it"
    say "(https://www.rabbitmq.com/docs/download) or run it with Docker:"
    say "  docker run -d --name rabbitmq -p 5672:5672 -p 15672:15672 rabbitmq:3-management"
    exit 1
  fi
fi

ping_node() { as_root rabbitmq-diagnostics -q ping >/dev/null 2>&1; }

if ! ping_node; then
  say "starting RabbitMQ (rabbitmq-server -detached); waiting up to 90 s for it to answer ping"
  as_root rabbitmq-server -detached >/dev/null 2>&1 || true
fi
for _ in $(seq 1 90); do
  ping_node && break
  sleep 1
done
ping_node || die "RabbitMQ did not start within 90 s; see its log in /var/log/rabbitmq/"
as_root rabbitmqctl -q await_startup --timeout 60 >/dev/null

as_root rabbitmq-plugins -q enable rabbitmq_management >/dev/null
say "waiting up to 60 s for the admin panel (rabbitmq_management) on port 15672"
for _ in $(seq 1 60); do
  if admin_panel_answers; then
    running_message
    exit 0
  fi
  sleep 1
done
die "the admin panel (rabbitmq_management) did not answer on port 15672 within 60 s"
