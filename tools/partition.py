"""make partition: a three-node cluster cut and healed under load, and whether a confirmed row
was lost.

scripts/partition_cluster.sh starts three RabbitMQ nodes, each in a network namespace of its
own (pause_minority). Three v3 workers (0 s per dot, prefetch PREFETCH) and the v3 emitter
(ROWS rows) run on the list of the three nodes' URLs, a small heartbeat in each. Under that
load the cluster is cut and healed on a schedule (SCHEDULE: clean and silent cuts, a node
isolated and a node bridging two others), each cut lasting CUT_SECONDS, longer than the
heartbeat and the nodes' net_ticktime; each step, each cut and each heal is said on stderr
as it happens (--quiet: not). Each cut waits until the cluster has recovered from the one
before (every node serving, and seeing the three running with no partition); a node still
not serving STUCK_AFTER seconds after a heal is restarted, as an operator would (RabbitMQ
3.10.8 can hang starting again after a partition), and the line names it. Then the queue is
drained, the workers are asked to stop, and one line says: cuts made, the seconds from the
last heal until the queue was drained, duplicates (rows done more than once), rows the
emitter had confirmed, rows done, and last, rows lost (confirmed and never done). Exit
status 0 only if no confirmed row was lost, every process ended by itself (the emitter on
its own, the workers on SIGTERM with status 0), and every client on a node that a cut
isolated said it had lost it within twice its heartbeat.

What the children print is read back through utils/console_lines.py: the workers' Done
lines say which rows were done; the emitter's exit status, and its "not confirmed" line,
say which rows the broker had confirmed.

--lossy shows that the check can fail: the rows go to a classic, non-durable queue on rmq1,
the node the first cut isolates; when it pauses, that queue and the rows in it are gone.
--table FILE writes one markdown row per cut (docs/partitions.md shows the last run's).
Needs root (network namespaces) and RabbitMQ installed; the broker on 5672 is not touched.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pika
import pika.exceptions

from tools.supervisor import start_python
from utils import PROJECT_ROOT
from utils.arguments import ArgumentParser
from utils.console_lines import parse_done, parse_not_confirmed
from utils.errors import ExitCode
from utils.queues import messages_ready

PROG = "partition"
CLUSTER = PROJECT_ROOT / "scripts" / "partition_cluster.sh"
NODES = ("rmq1", "rmq2", "rmq3")
QUEUE = "partition_check"
STATE = "rmq-partition-cluster"  # the cluster's state directory, under TMPDIR
ROWS = 100_000
HEARTBEAT = 4  # seconds: the clients' URLs and the nodes' own setting
TICKTIME = 6  # seconds: the nodes' net_ticktime, how soon a node declares a peer down
CUT_SECONDS = 10.0  # how long each cut lasts: longer than HEARTBEAT and TICKTIME
# (kind, shape, node): clean cuts take the links down, silent ones blackhole the packets;
# isolate cuts the node from both others and from its clients, bridge leaves the node
# seeing both others while they no longer see each other
SCHEDULE = (
    ("clean", "isolate", "rmq1"),
    ("silent", "isolate", "rmq2"),
    ("clean", "bridge", "rmq3"),
    ("silent", "bridge", "rmq1"),
)
RECOVER_TIMEOUT = 150.0  # seconds the nodes may take to recover after a heal, restarts included
STUCK_AFTER = 60.0  # seconds after which a node not serving again is restarted
CLI_TIMEOUT = 30.0  # seconds a rabbitmqctl call may take (a node that does not answer: fails)
DRAIN_TIMEOUT = 150.0  # seconds the queue may take to drain after the last heal
# With the queue empty, a row still not done after this long will not be: (a delivery held
# by a connection that died comes back once the broker notices, within two heartbeats)
QUIET_FOR = 4.0 * HEARTBEAT
# The workers' prefetch: at 1, each task waits for the ack of the one before, a round trip
# through the quorum queue's log, and 100,000 rows would not fit the 4-minute budget
PREFETCH = 10
STOP_PATIENCE = 20.0  # seconds a worker may take to stop after SIGTERM
POLL = 0.5  # seconds between two looks while waiting
LOST = re.compile(r" \[!\] .*\blost\b")  # a script's warning that it lost its connection
MOVED = re.compile(r" \[\*\] .*\breconnected to ([\d.]+:\d+)")  # and where it went
SENT_ALREADY = re.compile(r"; (\d+) rows were already sent")


# util-linux's setpriv: a script started through it gets SIGTERM when the run dies, even of
# SIGKILL, so none is left running against nodes that `down` then removes
STOP_WITH_THE_RUN = ["setpriv", "--pdeathsig", "TERM"] if shutil.which("setpriv") else []


class PartitionError(Exception):
    """The run could not go on: one line saying what failed."""


def address(node: str) -> tuple[str, int]:
    number = int(node.removeprefix("rmq"))
    return f"10.77.0.{number}", 5710 + number


def node_url(node: str) -> str:
    host, port = address(node)
    return f"amqp://guest:guest@{host}:{port}/?heartbeat={HEARTBEAT}&connection_attempts=1"


def url_list(first: int) -> str:
    """The three nodes' URLs, starting with NODES[first]: the clients spread over the nodes."""
    order = NODES[first:] + NODES[:first]
    return ",".join(node_url(node) for node in order)


# --- the cluster -----------------------------------------------------------------------------


def cluster(*args: str) -> None:
    """Run scripts/partition_cluster.sh; its last error line if it fails."""
    env = dict(os.environ, PARTITION_TICKTIME=str(TICKTIME), PARTITION_HEARTBEAT=str(HEARTBEAT))
    done = subprocess.run(
        ["bash", str(CLUSTER), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise PartitionError(f"{CLUSTER.name} {' '.join(args)} failed: {last}")


def serves(node: str) -> bool:
    """Whether the node takes an AMQP connection (a paused node has closed its listener)."""
    try:
        pika.BlockingConnection(pika.URLParameters(node_url(node) + "&socket_timeout=2")).close()
    except pika.exceptions.AMQPError:
        return False
    return True


def sees_the_whole_cluster(node: str) -> bool:
    """Whether the node runs, sees the three running, and knows of no partition: the cluster
    has recovered from a cut as far as this node can tell (rabbitmqctl cluster_status)."""
    command = ["bash", str(CLUSTER), "cli", node, "rabbitmqctl", "-q", "cluster_status"]
    try:
        done = subprocess.run(
            [*command, "--formatter", "json"],
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        status = json.loads(done.stdout) if done.returncode == 0 else {}
    except (subprocess.TimeoutExpired, ValueError):
        return False
    running = {name.partition("@")[0] for name in status.get("running_nodes", [])}
    return running == set(NODES) and not status.get("partitions")


def recovered() -> list[str]:
    """The nodes that have not recovered from the last cut: not serving, or not seeing every
    node running with no partition. Asked of the three at once: each rabbitmqctl call starts
    an Erlang VM, seconds under load."""
    with ThreadPoolExecutor(len(NODES)) as pool:
        answers = pool.map(lambda node: serves(node) and sees_the_whole_cluster(node), NODES)
        return [node for node, ok in zip(NODES, answers, strict=True) if not ok]


def save_node_logs(out: Path) -> None:
    """The nodes' logs, into the run's output directory (`down` deletes the nodes' own)."""
    state = Path(os.environ.get("PARTITION_CLUSTER_DIR") or Path(tempfile.gettempdir()) / STATE)
    for node in NODES:
        with contextlib.suppress(OSError):
            shutil.copytree(state / node / "log", out / f"{node}-log")


def wait_until(done: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until done(); PartitionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise PartitionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(POLL)


def ready_count() -> int | None:
    """Messages ready in the queue, asked of whichever node answers; None if none does."""
    for node in NODES:
        with contextlib.suppress(pika.exceptions.AMQPError):
            connection = pika.BlockingConnection(pika.URLParameters(node_url(node)))
            try:
                return messages_ready(connection.channel(), QUEUE) or 0  # gone: holds none
            finally:
                with contextlib.suppress(pika.exceptions.AMQPError):
                    connection.close()
    return None


def make_lossy_queue() -> None:
    """A classic queue on rmq1 that does not survive rmq1 pausing: not durable."""
    connection = pika.BlockingConnection(pika.URLParameters(node_url("rmq1")))
    connection.channel().queue_declare(QUEUE, durable=False)
    connection.close()


# --- the children ----------------------------------------------------------------------------


@dataclass
class Child:
    """A v3 script run as a user runs it; its lines, each with the time.monotonic() it came."""

    name: str
    process: subprocess.Popen
    first_node: str  # host:port of the first URL in its list, where it connects first
    lines: list[tuple[float, str]] = field(default_factory=list)
    done: list[tuple[float, int]] = field(default_factory=list)  # (when, row) of a Done line
    reader: threading.Thread | None = None

    def read(self) -> None:
        assert self.process.stdout is not None  # started with stdout=PIPE
        for line in self.process.stdout:
            now = time.monotonic()
            self.lines.append((now, line.rstrip("\n")))
            fact = parse_done(line)
            if fact is not None:
                self.done.append((now, fact.row))


# Started as the demo's children are (tools.supervisor.start_python), here run in this
# machine's network namespace, where the nodes' links end (no `ip netns exec`), through
# setpriv. But read by a thread of each child's own, not by a Supervisor: each line keeps the
# moment it came (how soon a client noticed a cut), while the main thread sleeps through the
# cuts, and the workers' Done lines (a line a row) are kept, not printed.
def start(name: str, argv: list[str], first: int, out: Path) -> Child:
    """Start `python ARGV` on the URL list that begins with NODES[first]."""
    env = dict(
        os.environ,
        RABBITMQ_URL=url_list(first),
        SECONDS_PER_DOT="0",
        WORK_QUEUE_LOG_DIR=str(out),
        PYTHONUNBUFFERED="1",
    )
    process = start_python(argv, env, runner=STOP_WITH_THE_RUN)
    host, port = address(NODES[first])
    child = Child(name, process, f"{host}:{port}")
    child.reader = threading.Thread(target=child.read, daemon=True)
    child.reader.start()
    return child


def ended_by_itself(child: Child, timeout: float) -> bool:
    """Whether the child exits within `timeout` s, as the script means to (not by a signal,
    not with a traceback's status); killed (and False) if it does not."""
    try:
        child.process.wait(timeout)
    except subprocess.TimeoutExpired:
        child.process.kill()
        child.process.wait()
        return False
    if child.reader is not None:
        child.reader.join()
    return child.process.returncode in (ExitCode.OK, ExitCode.FAILURE)


@contextlib.contextmanager
def children() -> Iterator[list[Child]]:
    """The children started within; any still running at the end is killed."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in started:
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Cut:
    kind: str
    shape: str
    node: str
    started: float = 0.0  # time.monotonic()
    healed: float = 0.0

    def describe(self) -> str:
        others = [node for node in NODES if node != self.node]
        if self.shape == "isolate":
            return f"{self.node} isolated from {' and '.join(others)} and its clients"
        return f"{self.node} bridges {' and '.join(others)}, which do not see each other"


def write_tasks(path: Path, rows: int) -> None:
    """ROWS one-dot tasks, row N on line N."""
    with path.open("w", encoding="utf-8") as file:
        file.writelines(f"Task {row} .\n" for row in range(1, rows + 1))


def run_schedule(cuts: list[Cut], say: Callable[[str], None], restarted: list[str]) -> None:
    """Each cut in turn, once the cluster has recovered from the one before."""
    for number, cut in enumerate(cuts, 1):
        after = f"after the heal of cut {number - 1}" if number > 1 else "after the cluster formed"
        wait_for_recovery(say, restarted, after)
        cut.started = time.monotonic()
        cluster("cut", cut.kind, cut.shape, cut.node)
        say(f"cut {number} of {len(cuts)} ({cut.kind}): {cut.describe()}, for {CUT_SECONDS:g} s")
        time.sleep(CUT_SECONDS)
        cluster("heal")
        cut.healed = time.monotonic()
        say(f"healed cut {number} of {len(cuts)}")


def wait_for_recovery(say: Callable[[str], None], restarted: list[str], after: str) -> None:
    """Wait until the cluster has recovered from the last cut (`after`, as the lines name
    it), saying so when it is not at once: a cut made while a node is still coming back is
    another test (RabbitMQ's own recovery cut halfway). A node still not serving STUCK_AFTER
    seconds on is restarted, as an operator would, and added to `restarted`."""
    behind = recovered()
    if not behind:
        return
    say(
        f"waiting for {' and '.join(behind)} to serve again and see every node running, with "
        f"no partition (a node not serving after {STUCK_AFTER:g} s is restarted; "
        f"{RECOVER_TIMEOUT:g} s in all)"
    )
    started = time.monotonic()
    behind = still_behind(started + STUCK_AFTER)
    for node in [node for node in behind if not serves(node)]:
        say(
            f"{node} is still not serving {STUCK_AFTER:g} s {after}: restarting it, as an "
            "operator would (RabbitMQ 3.10 before 3.10.10, on Erlang 25.1 or later, can hang "
            "starting after a partition: rabbitmq-server#6034)"
        )
        cluster("restart", node)
        restarted.append(f"{node} {after}")
    if still_behind(started + RECOVER_TIMEOUT):
        raise PartitionError(
            f"{' and '.join(recovered())} did not recover within {RECOVER_TIMEOUT:g} s "
            f"{after} (not serving, or not seeing every node running with no partition)"
        )


def still_behind(deadline: float) -> list[str]:
    """The nodes not recovered by `deadline` (a time.monotonic()); [] as soon as none is."""
    behind = recovered()
    while behind and time.monotonic() < deadline:
        time.sleep(POLL)
        behind = recovered()
    return behind


def confirmed_rows(status: int | None, lines: list[str], rows: int) -> tuple[set[int], bool]:
    """The rows the broker confirmed to an emitter of `rows` rows that exited with `status`
    and said `lines`, and whether that set is exact (a long 'not confirmed' line names only
    its first runs of rows: then the set is an upper bound)."""
    if status == ExitCode.OK:
        return set(range(1, rows + 1)), True  # exit 0: every row confirmed
    for line in lines:
        failed = parse_not_confirmed(line)
        if failed is not None:
            exact = len(failed.rows) == failed.failed
            return set(range(1, failed.sent + 1)) - set(failed.rows), exact
        sent = SENT_ALREADY.search(line)
        if sent is not None:  # stopped with no row left unconfirmed
            return set(range(1, int(sent[1]) + 1)), True
    return set(), True


def emitter_confirmed(emitter: Child, rows: int) -> tuple[set[int], bool]:
    lines = [line for _, line in list(emitter.lines)]
    return confirmed_rows(emitter.process.poll(), lines, rows)


def done_rows(workers: list[Child]) -> list[tuple[float, int]]:
    """(when, row) of every Done line of the workers."""
    return [done for worker in workers for done in list(worker.done)]


def node_at(client: Child, moment: float) -> str:
    """host:port of the node the client was on (or last on) at time.monotonic() `moment`."""
    node = client.first_node
    for when, line in list(client.lines):
        if when > moment:
            break
        moved = MOVED.search(line)
        if moved is not None:
            node = moved[1]
    return node


def notices(cut: Cut, clients: list[Child], until: float) -> list[float]:
    """For each client on a node the cut took away from its clients (the isolated one), or
    on a node that then paused (and closed them): how soon after the cut it said it had
    lost its connection."""
    host, port = address(cut.node)
    isolated = f"{host}:{port}"
    seconds = []
    for client in clients:
        on_node = node_at(client, cut.started)
        for when, line in list(client.lines):
            if cut.started <= when <= until and LOST.search(line):
                if cut.shape == "bridge" or on_node == isolated:
                    seconds.append(when - cut.started)
                break
    return seconds


def drained(emitter: Child, workers: list[Child], rows: int) -> bool:
    """The emitter has ended, the queue is empty, and every confirmed row is done, or no row
    has been done for QUIET_FOR seconds (then the rows left will not be), or every worker
    has exited."""
    if emitter.process.poll() is None:
        return False
    if all(worker.process.poll() is not None for worker in workers):
        return True  # no worker left to drain it: the rows left stay undone
    if ready_count() != 0:
        return False
    done = done_rows(workers)
    confirmed, _ = emitter_confirmed(emitter, rows)
    if confirmed <= {row for _, row in done}:
        return True
    last = max((when for when, _ in done), default=0.0)
    return time.monotonic() - last > QUIET_FOR


@dataclass
class Result:
    line: str  # how the run went; the printed line ends with the time in all, then `counts`
    counts: str  # the rows confirmed, done and lost: the line ends with the rows lost
    ok: bool
    table: list[str]


def tally(
    cuts: list[Cut],
    emitter: Child,
    workers: list[Child],
    rows: int,
    drained_in: float,
    problems: list[str],
    restarted: list[str],
) -> Result:
    confirmed, exact = emitter_confirmed(emitter, rows)
    done = done_rows(workers)
    times = Counter(row for _, row in done)
    lost = len(confirmed - set(times))
    duplicates = sum(1 for count in times.values() if count > 1)
    clients = [emitter, *workers]
    table, slowest = [], 0.0
    for i, cut in enumerate(cuts):
        until = cuts[i + 1].started if i + 1 < len(cuts) else float("inf")
        noticed = notices(cut, clients, until)
        if cut.shape == "isolate":  # a bridge cuts no client off: a paused node closes them
            slowest = max([slowest, *noticed])
        seen: Counter[int] = Counter()
        again = 0
        for when, row in sorted(done):
            seen[row] += 1
            if seen[row] > 1 and cut.started <= when < until:
                again += 1
        notice = f"{len(noticed)}, within {max(noticed):.1f} s" if noticed else "0"
        table.append(
            f"| {cut.kind} | {cut.shape} | {cut.describe()} | {cut.healed - cut.started:.0f} s "
            f"| {notice} | {again} |"
        )
    in_time = slowest <= 2 * HEARTBEAT
    lost_text = f"{lost}" if exact else f"at most {lost}"
    line = "; ".join(
        [
            f"{PROG}: {len(cuts)} cuts",
            f"clients cut off noticed within {slowest:.1f} s (heartbeat {HEARTBEAT} s)",
            f"the emitter exited {emitter.process.returncode}",
            *problems,
            *([f"restarted, stuck starting: {', '.join(restarted)}"] if restarted else []),
            f"drained {drained_in:.1f} s after the last heal",
            f"{duplicates} duplicates",
        ]
    )
    counts = f"{len(confirmed)} rows confirmed by the emitter, {len(times)} done, lost: {lost_text}"
    return Result(line, counts, lost == 0 and not problems and in_time, table)


def run(args: argparse.Namespace, out: Path, say: Callable[[str], None]) -> Result:
    write_tasks(out / "tasks.csv", args.rows)
    say("starting the cluster")
    cluster("down")
    cluster("up")
    queue_type = "classic" if args.lossy else "quorum"
    if args.lossy:
        make_lossy_queue()
    cuts = [Cut(*step) for step in SCHEDULE]
    with children() as started:
        for number in range(1, 4):
            argv = [
                "v3_listening_worker.py",
                "--queue",
                QUEUE,
                "--queue-type",
                queue_type,
                "--name",
                str(number),
                "--prefetch",
                str(PREFETCH),
            ]
            started.append(start(f"worker {number}", argv, number - 1, out))
        workers = list(started)
        wait_until(
            lambda: all(
                any("ready for work" in line for _, line in worker.lines) for worker in workers
            ),
            60,
            "three workers ready",
        )
        argv = [
            "v3_emitter_of_tasks.py",
            str(out / "tasks.csv"),
            "--queue",
            QUEUE,
            "--queue-type",
            queue_type,
            "--quiet",
            "--retry-for",
            "300",
        ]
        emitter = start("emitter", argv, 0, out)
        started.append(emitter)
        say(f"emitting {args.rows} rows; the schedule: {len(cuts)} cuts of {CUT_SECONDS:g} s")
        restarted: list[str] = []
        run_schedule(cuts, say, restarted)
        wait_for_recovery(say, restarted, f"after the heal of cut {len(cuts)}")
        say(f"draining the queue (up to {DRAIN_TIMEOUT:g} s)")
        late = []
        try:
            wait_until(
                lambda: drained(emitter, workers, args.rows), DRAIN_TIMEOUT, "the queue drained"
            )
        except PartitionError as error:  # the line still says what was lost
            late.append(str(error))
        drained_in = time.monotonic() - cuts[-1].healed
        say("stopping the workers (SIGTERM)")
        problems = late + stop_workers(workers)
        # the emitter ended by itself: 0 when every row was confirmed, 1 naming those not
        if not ended_by_itself(emitter, 0):
            problems.append(f"the emitter exited {emitter.process.returncode}")
    for child in started:
        (out / f"{child.name.replace(' ', '_')}.out").write_text(
            "".join(f"{when:.3f} {line}\n" for when, line in child.lines), encoding="utf-8"
        )
    return tally(cuts, emitter, workers, args.rows, drained_in, problems, restarted)


def stop_workers(workers: list[Child]) -> list[str]:
    """Ask the workers to stop (SIGTERM: each finishes the task in hand); what went wrong."""
    running = [worker for worker in workers if worker.process.poll() is None]
    problems = [
        f"{worker.name} exited {worker.process.returncode} on its own"
        for worker in workers
        if worker not in running
    ]
    for worker in running:
        worker.process.terminate()
    for worker in running:
        if not ended_by_itself(worker, STOP_PATIENCE):
            problems.append(f"{worker.name} was killed: it did not stop on SIGTERM")
        elif worker.process.returncode != ExitCode.OK:
            problems.append(f"{worker.name} exited {worker.process.returncode} on SIGTERM")
    return problems


def make_argument_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=f"python -m tools.{PROG}",
        description="Cut and heal a three-node cluster under load; exit 0 only if no row "
        "the broker confirmed was lost.",
    )
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows to emit (default {ROWS})")
    parser.add_argument(
        "--lossy",
        action="store_true",
        help="show that the check can fail: a classic, non-durable queue on the node the "
        "first cut isolates (exit 1, rows lost)",
    )
    parser.add_argument("--table", type=Path, help="write one markdown row per cut to TABLE")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scripts' output and the nodes' logs"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only the result, not each step"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_argument_parser().parse_args(argv)
    if os.geteuid() != 0:
        print(f"{PROG}: error: network namespaces need root: run as root", file=sys.stderr)
        return ExitCode.USAGE
    started = time.monotonic()

    def say(text: str) -> None:
        """Each step as it happens, on stderr (the result is the one line on stdout)."""
        if not args.quiet:
            print(
                f"{PROG}: {time.monotonic() - started:5.1f} s {text}", file=sys.stderr, flush=True
            )

    out = Path(tempfile.mkdtemp(prefix="partition-"))
    try:
        result = run(args, out, say)
    except PartitionError as error:
        print(f"{PROG}: error: {error}; the scripts' output is in {out}", file=sys.stderr)
        return ExitCode.FAILURE
    finally:
        save_node_logs(out)
        with contextlib.suppress(PartitionError):
            cluster("down")
    if args.table is not None:
        args.table.write_text("\n".join(result.table) + "\n", encoding="utf-8")
    print(f"{result.line}; {time.monotonic() - started:.0f} s in all; {result.counts}")
    if result.ok and not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    else:
        print(f"{PROG}: the scripts' output is in {out}", file=sys.stderr)
    return ExitCode.OK if result.ok else ExitCode.FAILURE


if __name__ == "__main__":
    sys.exit(main())
