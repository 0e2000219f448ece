"""After start-up no broker event ends the v3 worker: connections closed by the broker again
and again, a task taken back at the broker's consumer_timeout. On a throwaway node (the
scratch_broker fixture): the broker on 5672 keeps its settings and its connections."""

from __future__ import annotations

import pika
import pytest

from harness.broker import ready_count
from harness.children import script_env, wait_until
from utils.console_lines import READY_WORDS

# own_node: these change broker-wide state (every connection closed for seconds, a 2 s
# consumer_timeout); on a node of their own, never on the one the other modules' tests share
# (the shared scratch node; the one 4.0 node every test shares)
pytestmark = [pytest.mark.broker, pytest.mark.own_node]

HOOKED = ("-m", "tests.work_hooks", "gated")  # work that ends once the test opens its gate
FAILING = ("-m", "tests.work_hooks", "failing")  # fails every task that says "fail"


@pytest.fixture(scope="module")
def scratch_broker(own_scratch_broker):
    """This module's node of its own, not the one the other modules' tests share."""
    return own_scratch_broker


def publish(url: str, queue: str, bodies: list[bytes]) -> None:
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        channel = connection.channel()
        channel.queue_declare(queue, durable=True)
        channel.confirm_delivery()
        for body in bodies:
            channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))


CLOSE_EVERY_HUNDREDTH_OF_A_SECOND = """
register(closer_in_test, spawn(fun() ->
    [begin
         [rabbit_networking:close_connection(Pid, "closed by the test")
          || Pid <- rabbit_networking:connections()],
         timer:sleep(10)
     end || _ <- lists:seq(1, 600)]
end)).
"""


def closer_status(scratch_broker) -> str:
    """'closing' while CLOSE_EVERY_HUNDREDTH_OF_A_SECOND runs on the node."""
    alive = "case whereis(closer_in_test) of undefined -> done; _ -> closing end."
    return scratch_broker.rabbitmqctl("eval", alive)


def connections(scratch_broker) -> list[str]:
    return scratch_broker.rabbitmqctl("list_connections", "name", "--no-table-headers").split()


def test_connections_closed_by_the_broker_as_they_open_never_end_the_worker(
    scratch_broker, workers, tmp_path
):
    queue = "closed-again-and-again"
    env = script_env(scratch_broker.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", "--queue", queue, "--name", "w", env=env)
    worker.wait_for(READY_WORDS)
    # for 6 s or more, the broker closes every connection within 0.01 s of its opening: each cut
    # lands at some moment of the worker's reconnecting (handshake, channel, declare, ...)
    scratch_broker.rabbitmqctl("eval", CLOSE_EVERY_HUNDREDTH_OF_A_SECOND)
    # how many cuts land on an open connection depends on the worker's backoff and the
    # machine's load; the first always does: it was consuming when the closing began
    worker.wait_for("lost its connection", timeout=20)
    wait_until(lambda: "closing" not in closer_status(scratch_broker), "the closing to end", 30)
    assert worker.running()
    ready = worker.output.count(READY_WORDS)
    wait_until(lambda: connections(scratch_broker), "the worker's connection", timeout=60)
    publish(scratch_broker.url, queue, [b"first.", b"second.", b"third."])
    worker.wait_for("Done", count=3, timeout=60)
    assert worker.output.count(READY_WORDS) >= ready
    assert worker.stop().code == 0
    assert "worker w did 3 tasks" in worker.output
    assert "CONNECTION_FORCED - closed by the test" in worker.output
    assert ready_count(scratch_broker.url, queue) == 0
    assert "Traceback" not in worker.output


@pytest.fixture
def consumer_timeout(scratch_broker):
    """The scratch broker takes a task back after 2 s unacked (checked every 0.5 s), for
    the channels opened in the test; its defaults restored at the end."""
    ctl = scratch_broker.rabbitmqctl
    ctl("eval", "application:set_env(rabbit, consumer_timeout, 2000).")
    ctl("eval", "application:set_env(rabbit, channel_tick_interval, 500).")
    try:
        yield
    finally:
        ctl("eval", "application:unset_env(rabbit, channel_tick_interval).")
        ctl("eval", "application:set_env(rabbit, consumer_timeout, 1800000).")


def test_a_task_taken_back_at_the_consumer_timeout_is_said_and_done_once(
    scratch_broker, consumer_timeout, workers, tmp_path
):
    queue, gate = "held-too-long", tmp_path / "gate"
    publish(scratch_broker.url, queue, [b"Slow task", b"Next task"])
    env = script_env(scratch_broker.url, log_dir=tmp_path, seconds_per_dot="0", WORK_GATE=str(gate))
    worker = workers(*HOOKED, "--queue", queue, "--name", "w", env=env)

    worker.wait_for("the broker closed the channel: 406 PRECONDITION_FAILED", timeout=30)
    gate.touch()
    worker.wait_for("Done", count=2, timeout=30)
    assert worker.stop().code == 0

    [line] = worker.lines("the broker closed the channel")
    assert "delivery acknowledgement on channel 1 timed out" in line
    assert line.endswith(f"; row ? went back to {queue}; starting over")
    [dropped] = worker.lines("result is dropped")
    assert dropped.endswith(
        "worker w: row ?'s result is dropped: the broker took the task back when the channel "
        "closed, and gives it again"
    )
    assert worker.output.count("Done") == 2  # each task once
    assert ready_count(scratch_broker.url, queue) == 0
    assert "Traceback" not in worker.output


def test_a_task_held_with_its_copy_refused_and_taken_back_at_the_consumer_timeout_is_named(
    scratch_broker, consumer_timeout, workers, tmp_path
):
    queue = "held-refused"
    with pika.BlockingConnection(pika.URLParameters(scratch_broker.url)) as connection:
        full = {"x-max-length": 0, "x-overflow": "reject-publish"}  # every copy refused
        connection.channel().queue_declare(f"{queue}.dead-letter", durable=True, arguments=full)
    publish(scratch_broker.url, queue, [b"fail me"])
    env = script_env(scratch_broker.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers(*FAILING, "--retries", "0", "--queue", queue, "--name", "w", env=env)

    worker.wait_for("holds row ?")
    worker.wait_for("the broker closed the channel: 406 PRECONDITION_FAILED", timeout=30)
    assert worker.stop().code == 0

    line = worker.lines("the broker closed the channel")[0]
    assert line.endswith(f"; row ? went back to {queue}; starting over")
    assert ready_count(scratch_broker.url, queue) == 1
    assert "Traceback" not in worker.output
