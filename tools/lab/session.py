"""What every experiment of the lab uses: its lines, its children, its vhost, waiting, cleaning up.

A Lab runs one experiment. It says what it does as it goes ("lab | ..."), starts the real
scripts and the stand-ins as children whose lines it prints and records (tools.supervisor),
makes a virtual host of its own through the management API when the experiment needs the
user's broker, and at the end, whatever happened, kills the children still running,
deletes that vhost with every queue in it, and stops the throwaway node of the restart
experiment. It never touches a queue it did not create.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pika
import pika.exceptions

from tools.lab.node import ThrowawayNode
from tools.management import Api, ManagementError, quoted
from tools.schedule_view import draw_timelines
from tools.supervisor import BOLD, COLOURS, Child, RoundLog, Supervisor, child_environment
from utils import PROJECT_ROOT
from utils.broker_errors import broker_error
from utils.connect import connect
from utils.errors import ScriptError
from utils.parameters import connection_parameters
from utils.queues import PERSISTENT, messages_ready

QUIET = 1.0  # seconds without a line from an idle worker before the lab calls it idle
PATIENCE = 30.0  # seconds a step may take beyond its work before the lab gives up on it
NAME_WIDTH = len("worker 3")
EMITTER = str(PROJECT_ROOT / "v3_emitter_of_tasks.py")


class LabError(ScriptError):
    """An experiment could not run as planned: one line, exit status 1."""


@dataclass(frozen=True)
class Side:
    """One way to run an experiment: with the setting (a real script), or without it."""

    key: str  # "with" or "without"
    setting: str  # "manual ack after the work"
    argv: tuple[str, ...]  # the program, as `python ARGV`
    slug: str  # in the names of its queues: "manual-ack"

    @property
    def title(self) -> str:
        return f"{self.key}: {self.setting}"

    @property
    def program(self) -> str:
        """The program as a user would type it."""
        return " ".join(["python", *self.argv]) if self.argv[0] == "-m" else self.argv[0]


def vhost_url(url: str, vhost: str) -> str:
    """The first URL of `url` (a comma-separated list), on another virtual host."""
    first = url.split(",")[0].strip()
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(first)._replace(path="/" + quoted(vhost)))


def with_query(url: str, **options: str) -> str:
    """The URL with query options set (replacing those of the same name)."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k not in options]
    query += list(options.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class Lab:
    """One experiment's run: its lines, its children, and what it made (deleted at the end)."""

    def __init__(
        self, experiment: str, url: str, per_dot: float, colour: bool, management_port: int
    ) -> None:
        self.experiment, self.url, self.per_dot = experiment, url, per_dot
        self.management_port = management_port
        self.supervisor = Supervisor(child_environment(url, per_dot), colour, NAME_WIDTH, "lab")
        self.vhost: tuple[Api, str] | None = None  # made by the lab, deleted at the end
        self.node: ThrowawayNode | None = None  # started by the lab, stopped at the end
        self.exits_said: set[int] = set()  # id() of the workers whose end the lab has told

    def say(self, text: str) -> None:
        """A line of the lab's own."""
        self.supervisor.say(text)

    def timelines(self, titled: list[tuple[str, RoundLog]], workers: int) -> list[str]:
        """Each run's real timeline under its title, all at one scale, lanes coloured."""
        names = [f"worker {number}" for number in range(1, workers + 1)]
        blocks = [(f"Timeline, {title}:", log.blocks()) for title, log in titled]
        return draw_timelines(blocks, names, self.supervisor.paint_lane)

    def section(self, text: str) -> None:
        """A heading between the parts of a run."""
        self.say(f"── {text} ──")

    # --- what the lab makes, and deletes -----------------------------------------------------

    def make_vhost(self) -> str:
        """A virtual host of the lab's own on the user's broker; return its AMQP URL."""
        api = Api.from_url(self.url, self.management_port)
        name = f"lab-{self.experiment}-{uuid.uuid4().hex[:8]}"
        self.vhost = (api, name)  # before it exists: an interrupted PUT is cleaned up too
        api.call("PUT", f"/vhosts/{quoted(name)}", {"description": "the lab's; deleted after it"})
        everything = {"configure": ".*", "write": ".*", "read": ".*"}
        api.call("PUT", f"/permissions/{quoted(name)}/{quoted(api.user)}", everything)
        self.say(f"vhost {name} on {api.host.rsplit(':', 1)[0]}: the lab's own, deleted at the end")
        return vhost_url(self.url, name)

    def start_node(self) -> str:
        """A throwaway RabbitMQ node beside the user's broker; return its AMQP URL."""
        self.node = ThrowawayNode()
        self.say(
            f"starting a throwaway RabbitMQ node of the lab's own, {self.node.name}@localhost on "
            f"127.0.0.1:{self.node.port} (scripts/local_broker.sh): your broker is never "
            "restarted"
        )
        self.node.up(self.say)
        return self.node.url

    def node_ctl(self, *args: str) -> None:
        """rabbitmqctl ARGS against the lab's node."""
        assert self.node is not None, "start_node first"
        self.node.ctl(*args)

    def clean_up(self) -> None:
        """Kill the children still running, delete the vhost, stop the node: each, whatever."""
        if self.supervisor.running():
            self.say("stopping the children still running (SIGKILL)")
            self.supervisor.kill_running()
        if self.vhost is not None:
            api, name = self.vhost
            try:
                api.call("DELETE", f"/vhosts/{quoted(name)}")
                self.say(f"deleted vhost {name}, and every queue in it")
            except ManagementError as error:
                if error.status != 404:
                    self.say(f"could not delete vhost {name} ({error}): delete it yourself")
            self.vhost = None
        if self.node is not None:
            self.node.down(self.say)
            self.node = None

    # --- children -----------------------------------------------------------------------------

    def env(self, url: str) -> dict[str, str]:
        """A child's environment: its broker URL, and the lab's seconds per dot."""
        return child_environment(url, self.per_dot)

    def start_workers(
        self, side: Side, count: int, queue: str, url: str, log: RoundLog
    ) -> list[Child]:
        """Start `count` workers of a side on a queue; return once each says it is ready."""
        workers = [
            self.supervisor.start(
                f"worker {number}",
                number,
                COLOURS[(number - 1) % len(COLOURS)],
                [*side.argv, "--name", str(number), "--queue", queue],
                env=self.env(url),
            )
            for number in range(1, count + 1)
        ]

        def none_ended() -> None:
            for worker in workers:
                if worker.closed and worker.worker not in log.ready:
                    raise LabError(
                        f"{worker.name} exited (status {worker.process.returncode}) before it "
                        "was ready; see its lines above"
                    )

        self.wait(log, lambda: len(log.ready) == count, "every worker ready", 30, none_ended)
        return workers

    def run(self, name: str, argv: list[str], url: str, log: RoundLog) -> int:
        """Run a child to its end (an emitter), printing its lines; return its exit status."""
        child = self.supervisor.start(name, None, BOLD, argv, env=self.env(url))
        self.wait(log, lambda: child.closed, f"{name} to end", PATIENCE)
        return child.process.returncode

    def emit(self, csv_file: str, queue: str, url: str, log: RoundLog) -> None:
        """Run the v3 emitter on a CSV file; it must succeed."""
        status = self.run("emitter", [EMITTER, csv_file, "--queue", queue], url, log)
        if status != 0:
            raise LabError(f"the v3 emitter failed (status {status}); see its lines above")

    def wait(
        self,
        log: RoundLog,
        until: Callable[[], bool],
        what: str,
        timeout: float,
        check: Callable[[], None] = lambda: None,
    ) -> None:
        """Print and record the children's lines until until(); give up after `timeout` s."""
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise LabError(f"waited {timeout:.0f} s for {what}, in vain; see the lines above")
            self.supervisor.pump(log)
            self._say_exits()
            check()

    def _say_exits(self) -> None:
        """Say when a worker ends by itself: that is often what an experiment shows."""
        for child in self.supervisor.children:
            if child.closed and child.worker is not None and id(child) not in self.exits_said:
                self.exits_said.add(id(child))
                self.say(f"{child.name} exited, status {child.process.returncode}")

    def kill(self, child: Child, log: RoundLog) -> None:
        """SIGKILL a worker now, as a crash would: no chance to finish or to say goodbye."""
        child.process.kill()
        self.exits_said.add(id(child))  # the lab says why itself
        assert child.worker is not None
        log.ended_at(child.worker, time.time())

    def stop_workers(self, log: RoundLog, patience: float) -> dict[int, int]:
        """Stop the workers still running (SIGTERM); return each worker's exit status."""
        self.supervisor.stop_all(log, patience)
        self.exits_said.update(id(child) for child in self.supervisor.children)
        return {
            child.worker: child.process.returncode
            for child in self.supervisor.children
            if child.worker is not None
        }

    def end_side(self, workers: list[Child], log: RoundLog, patience: float) -> dict[int, int]:
        """Stop the workers still running (SIGTERM); return those that had died by themselves,
        with their exit status."""
        died = {
            w.worker: w.process.returncode for w in workers if w.closed and w.worker is not None
        }
        if len(died) == len(workers):
            self.say("no worker is left running")
        else:
            self.say("stopping the workers left (SIGTERM)")
            self.stop_workers(log, patience)
        return died

    def idle(self, log: RoundLog, workers: list[int]) -> bool:
        """Whether each of the workers has held no task, and said nothing, for QUIET s."""
        return all(log.idle_for(worker) >= QUIET for worker in workers)

    # --- the broker, as the lab sees it ----------------------------------------------------

    def ready(self, url: str, queue: str) -> int | None:
        """Messages ready in a queue, exactly (a passive declare); None if there is no queue."""
        with self._channel(url) as channel:
            try:
                return messages_ready(channel, queue)
            except pika.exceptions.ChannelClosedByBroker as error:
                raise broker_error(error) from None

    def rows_in(self, url: str, queue: str) -> list[int]:
        """The row numbers of the messages waiting in a queue, in order (they stay there)."""
        rows: list[int] = []
        with self._channel(url) as channel:
            while True:
                method, properties, _body = channel.basic_get(queue)
                if method is None:
                    return rows  # closing the channel puts every message back
                rows.append((properties.headers or {}).get("row", 0))

    def publish(self, url: str, queue: str, messages: list[tuple[int | None, bytes]]) -> None:
        """Publish persistent messages (row, body) to a durable queue, each confirmed."""
        with self._channel(url) as channel:
            channel.queue_declare(queue, durable=True)
            channel.confirm_delivery()
            for row, body in messages:
                headers = None if row is None else {"row": row}
                properties = pika.BasicProperties(delivery_mode=PERSISTENT, headers=headers)
                channel.basic_publish("", queue, body, properties)

    def _channel(self, url: str) -> _Channel:
        return _Channel(url)


class _Channel:
    """`with _Channel(url) as channel:` a channel on a connection of its own, closed after."""

    def __init__(self, url: str) -> None:
        self.connection = connect(connection_parameters(url, warn=False))

    def __enter__(self):
        return self.connection.channel()

    def __exit__(self, kind, error, _traceback) -> None:
        if self.connection.is_open:
            self.connection.close()
        if isinstance(error, pika.exceptions.AMQPError):
            raise broker_error(error) from None
