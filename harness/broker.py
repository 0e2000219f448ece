"""The broker under test, and a virtual host of one's own on it: what the tests and bench/ share.

The broker is the local one on 5672 unless the RABBITMQ_TEST_* variables name another.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import urllib.parse
import uuid

import pika
import pika.exceptions

from tools.management import Api, ManagementError, quoted
from utils.queues import messages_ready

# The broker under test, from the environment: by default the local broker on 5672;
# scripts/rabbitmq4_node.sh `with` points these at a RabbitMQ 4 node of its own.
AMQP = os.environ.get("RABBITMQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672").rstrip("/")
MANAGEMENT = os.environ.get("RABBITMQ_TEST_MANAGEMENT_URL", "http://127.0.0.1:15672").rstrip("/")
ADDRESS = urllib.parse.urlsplit(AMQP).netloc.rpartition("@")[2]  # its AMQP host:port
# the command that runs rabbitmqctl against it (the host's, through `sudo -n` unless root)
CTL = shlex.split(os.environ.get("RABBITMQ_TEST_CTL", "")) or [
    *([] if os.geteuid() == 0 else ["sudo", "-n"]),
    "rabbitmqctl",
]
GUEST = dataclasses.replace(  # its management API, as guest
    Api.from_url(f"{AMQP}/%2F"), host=urllib.parse.urlsplit(MANAGEMENT).netloc
)


def broker_url(user: str, password: str, vhost: str) -> str:
    """The AMQP URL of a user and a vhost on the broker under test."""
    return f"amqp://{user}:{password}@{ADDRESS}/{quoted(vhost)}"


def rabbitmqctl(*args: str) -> str:
    """Run rabbitmqctl on the broker under test (CTL); its output."""
    return subprocess.run(
        [*CTL, "-q", *args], check=True, timeout=120, capture_output=True, text=True
    ).stdout


# --- the management API and a virtual host of one's own -------------------------------------


def api(method: str, path: str, body: object = None) -> object:
    """Call the management API of the broker under test as guest; the decoded JSON, or None.
    ManagementError (its `status`: the HTTP code) if it refuses or does not answer."""
    return GUEST.call(method, path, body)


def create_vhost(name: str, default_queue_type: str | None = None) -> None:
    """Create a virtual host and give guest every permission on it. With default_queue_type,
    a queue declared there without an x-queue-type gets that type (set with the CLI: 3.10's
    management API ignores it)."""
    if default_queue_type is None:
        api("PUT", f"/vhosts/{quoted(name)}")
    else:
        rabbitmqctl("add_vhost", name, "--default-queue-type", default_queue_type)
    everything = {"configure": ".*", "write": ".*", "read": ".*"}
    api("PUT", f"/permissions/{quoted(name)}/guest", everything)


def delete_vhost(name: str) -> None:
    """Delete a virtual host and every queue in it; a vhost already gone is fine."""
    try:
        api("DELETE", f"/vhosts/{quoted(name)}")
    except ManagementError as error:
        if error.status != 404:
            raise


class Vhost:
    """A virtual host of one's own on the broker under test, its AMQP URL, and its queues.

    `with Vhost() as vhost:` creates it, and deletes it with every queue in it at the end,
    even on failure. Nothing here touches the default vhost.
    """

    def __init__(self, prefix: str = "test", default_queue_type: str | None = None) -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.url = f"{AMQP}/{quoted(self.name)}"
        self.default_queue_type = default_queue_type

    def create(self) -> None:
        create_vhost(self.name, self.default_queue_type)

    def delete(self) -> None:
        delete_vhost(self.name)

    def __enter__(self) -> Vhost:
        self.create()
        return self

    def __exit__(self, *_exception) -> None:
        self.delete()

    def connection(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(pika.URLParameters(self.url))

    def queue_info(self, queue: str) -> dict:
        """The management API's view of a queue (its static fields are exact)."""
        info = api("GET", f"/queues/{quoted(self.name)}/{quoted(queue)}")
        assert isinstance(info, dict)
        return info

    def declared(self, queue: str) -> pika.spec.Queue.DeclareOk:
        """A passive declare: the queue's exact message_count and consumer_count."""
        with self.connection() as connection:
            return connection.channel().queue_declare(queue, passive=True).method

    def ready_count(self, queue: str, missing_ok: bool = False) -> int:
        """Messages ready in a queue, exactly; with missing_ok, 0 for a queue not declared."""
        return ready_count(self.url, queue, missing_ok)

    def take_all(self, queue: str) -> list[tuple[bytes, pika.BasicProperties]]:
        """Take (and ack) every ready message of a queue: (body, properties) in queue order."""
        return take_all(self.url, queue)

    def publish(self, queue: str, bodies: list[bytes]) -> None:
        """Publish persistent messages to a durable queue, each confirmed."""
        with self.connection() as connection:
            channel = connection.channel()
            channel.queue_declare(queue, durable=True)
            channel.confirm_delivery()
            for body in bodies:
                channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))

    def delete_queue(self, queue: str) -> None:
        """Delete a queue and its messages, so that the next run starts from nothing."""
        with self.connection() as connection:
            connection.channel().queue_delete(queue)


def ready_count(url: str, queue: str, missing_ok: bool = False) -> int:
    """Messages ready in a queue of the broker at `url`, exactly (a passive declare); with
    missing_ok, 0 for a queue not declared."""
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        ready = messages_ready(connection.channel(), queue)
    if ready is None:
        assert missing_ok, f"no queue {queue}"
        return 0
    return ready


TAKE_AT_ONCE = 1000  # messages in flight to a test that takes a whole queue


def take_all(url: str, queue: str) -> list[tuple[bytes, pika.BasicProperties]]:
    """Take (and ack) the messages ready in a queue of the broker at `url`: (body, properties)
    in queue order. Consumed TAKE_AT_ONCE at a time: 100,000 take seconds, not minutes."""
    messages: list[tuple[bytes, pika.BasicProperties]] = []
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        channel = connection.channel()
        ready = channel.queue_declare(queue, passive=True).method.message_count
        if ready == 0:
            return messages
        channel.basic_qos(prefetch_count=TAKE_AT_ONCE)
        for method, properties, body in channel.consume(queue, inactivity_timeout=30):
            if method is None:
                raise TimeoutError(f"{queue}: {len(messages)} of {ready} messages came")
            messages.append((body, properties))
            if len(messages) % TAKE_AT_ONCE == 0 or len(messages) == ready:
                channel.basic_ack(method.delivery_tag, multiple=True)
            if len(messages) == ready:
                break
        channel.cancel()  # what was delivered and not acked goes back to the queue
    return messages
