"""The v3 worker's decisions, without a broker: what becomes of a delivery, and when."""

from __future__ import annotations

import argparse
import logging
import queue
import threading

import pika
import pika.exceptions
import pytest

import v3_listening_worker as worker  # importing writes no log: setup_logger is in main()
from utils.tasks import MOST_ROWS_NAMED, RowRuns
from v3_listening_worker import Outcome, Settle, WorkResult


@pytest.mark.parametrize(
    ("stop_requested", "connection_open", "expected"),
    [
        (False, True, None),
        (True, True, Outcome.SKIPPED_STOPPING),
        (False, False, Outcome.SKIPPED_CONNECTION_LOST),
        (True, False, Outcome.SKIPPED_CONNECTION_LOST),
    ],
)
def test_a_task_is_worked_only_while_running_on_a_live_connection(
    stop_requested, connection_open, expected
):
    assert worker.before_work(stop_requested, connection_open) is expected


@pytest.mark.parametrize(
    ("outcome", "channel_open", "failures", "expected"),
    [
        (Outcome.DONE, True, 0, Settle.ACK),
        (Outcome.DONE, True, 1, Settle.ACK),  # done on its second try
        (Outcome.DONE, False, 0, Settle.LEAVE),  # the broker has requeued it
        (Outcome.SKIPPED_STOPPING, True, 0, Settle.LEAVE),  # requeued when we close
        (Outcome.SKIPPED_CONNECTION_LOST, True, 0, Settle.LEAVE),
        (Outcome.FAILED, True, 0, Settle.RETRY),  # a first failure: retried (--retries 1)
        (Outcome.FAILED, True, 1, Settle.SET_ASIDE),  # failed before: its last try is over
        (Outcome.FAILED, False, 1, Settle.LEAVE),
    ],
)
def test_what_becomes_of_a_delivery(outcome, channel_open, failures, expected):
    assert worker.settle(outcome, channel_open, failures, retries=1) is expected


@pytest.mark.parametrize(
    ("retries", "failures", "expected"),
    [
        (0, 1, Settle.SET_ASIDE),  # no retries: set aside at its first failure
        (1, 1, Settle.RETRY),
        (1, 2, Settle.SET_ASIDE),
        (2, 2, Settle.RETRY),
        (2, 3, Settle.SET_ASIDE),  # tried three times
        (1, 5, Settle.SET_ASIDE),  # retried more by a worker with more --retries
    ],
)
def test_a_task_is_retried_per_failure_then_set_aside(retries, failures, expected):
    assert worker.after_failure(failures, retries) is expected


@pytest.mark.parametrize(
    ("headers", "failures"),
    [(None, 0), ({}, 0), ({"row": 3}, 0), ({"x-failures": 2}, 2), ({"x-failures": "2"}, 0)],
)
def test_the_failures_so_far_are_the_x_failures_header(headers, failures):
    assert worker.failures_of(headers) == failures


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("1", 1), ("1000", 1000)])
def test_retries_from_0_to_1000(text, value):
    assert worker.retry_count(text) == value


@pytest.mark.parametrize("text", ["-1", "1001", "one", ""])
def test_retries_outside_0_to_1000_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="from 0 to 1000"):
        worker.retry_count(text)


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("1", 1), ("65535", 65535)])
def test_prefetch_from_0_to_65535(text, value):
    assert worker.prefetch_count(text) == value


@pytest.mark.parametrize("text", ["-1", "65536", "1.5", "many", ""])
def test_prefetch_outside_0_to_65535_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="from 0 to 65535"):
        worker.prefetch_count(text)


# --- one consumer on a fake connection: every task settled by the same code --------------


class FakeChannel:
    """What the consumer asks of a pika channel, recorded."""

    def __init__(self) -> None:
        self.is_open, self.calls = True, list[tuple]()

    def basic_ack(self, delivery_tag: int) -> None:
        self.calls.append(("ack", delivery_tag))

    def basic_consume(self, queue: str, on_message_callback) -> str:
        self.calls.append(("consume", queue))
        return f"lent-{len(self.calls)}"

    def basic_cancel(self, consumer_tag: str) -> None:
        self.calls.append(("cancel", consumer_tag))

    def basic_qos(self, prefetch_count: int) -> None:
        self.calls.append(("qos", prefetch_count))


class FakePublisher:
    """The copies the consumer hands over, and whether RabbitMQ blocks publishing."""

    def __init__(self) -> None:
        self.copies: list = []
        self.blocked = False

    def publish(self, copy) -> None:
        self.copies.append(copy)


class FakeConnection:
    def __init__(self) -> None:
        self.fake_channel = FakeChannel()

    def channel(self) -> FakeChannel:
        return self.fake_channel


@pytest.fixture
def consumer():
    settings = worker.Settings("q", "classic", "w1", prefetch=1, per_dot=0.001)
    made = worker.Consumer(
        FakeConnection(),
        settings,
        threading.Event(),
        queue.SimpleQueue(),
        RowRuns(),
        FakePublisher(),
    )
    return made


def deliver(consumer, body: bytes, tag: int = 1, row: int = 7, redelivered=False, failures=0):
    method = pika.spec.Basic.Deliver(delivery_tag=tag, redelivered=redelivered)
    headers = {"row": row, **({"x-failures": failures} if failures else {})}
    consumer._on_message(consumer.channel, method, pika.BasicProperties(headers=headers), body)


def test_a_task_with_no_work_is_acked_then_said_in_one_record(consumer, caplog):
    caplog.set_level(logging.INFO, logger=worker.logger.name)
    deliver(consumer, b"no dots")

    assert consumer.channel.calls == [("ack", 1)]
    assert consumer.work_queue.empty() and consumer.in_hand == 0
    assert (consumer.rows_done.count, str(consumer.rows_done)) == (1, "rows 7")
    [record] = caplog.records
    received, done = record.getMessage().split("\n")
    assert received.startswith(" [x] Received row 7 by worker w1 at ")
    assert done.startswith(" [x] Done row 7 by worker w1 in ")


def test_a_retried_task_says_which_try_it_is(consumer, caplog):
    caplog.set_level(logging.INFO, logger=worker.logger.name)
    deliver(consumer, b"no dots", failures=1)

    assert consumer.channel.calls == [("ack", 1)]
    assert caplog.records[0].getMessage().startswith(" [x] Received row 7 (try 2 of 2) by w")


def test_a_task_with_work_goes_to_the_work_thread_and_is_acked_by_the_same_code(consumer, caplog):
    caplog.set_level(logging.INFO, logger=worker.logger.name)
    deliver(consumer, b"two dots..", tag=3)
    assert consumer.channel.calls == []  # handed to the work thread, not acked yet
    delivery = consumer.work_queue.get_nowait()

    result = consumer.work(delivery)  # as the work thread does
    assert result.outcome is Outcome.DONE
    consumer.finish(delivery, result)  # as the I/O thread does, called back

    assert consumer.channel.calls == [("ack", 3)]
    assert consumer.in_hand == 0
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith(" [x] Received row 7 by worker w1 at ")
    assert messages[1].startswith(" [x] Done row 7 by worker w1 in ")


def test_once_a_stop_is_asked_a_task_in_hand_is_left_for_the_broker(consumer, caplog):
    consumer.stop.set()
    deliver(consumer, b"no dots")
    assert consumer.channel.calls == [] and consumer.in_hand == 0
    assert consumer.rows_done.count == 0
    assert not caplog.records


def test_a_task_whose_connection_dropped_is_not_worked(consumer, caplog):
    caplog.set_level(logging.INFO, logger=worker.logger.name)
    deliver(consumer, b"one dot.")
    delivery = consumer.work_queue.get_nowait()
    consumer.open = False  # the connection dropped while the task waited

    assert consumer.work(delivery).outcome is Outcome.SKIPPED_CONNECTION_LOST
    assert not caplog.records  # never said Received


def fail(consumer, **delivered):
    """Deliver a one-dot task, and settle it as if its work raised."""
    deliver(consumer, b"one dot.", **delivered)
    delivery = consumer.work_queue.get_nowait()
    consumer.finish(delivery, WorkResult(Outcome.FAILED, OverflowError("too long")))
    return delivery


def test_a_task_that_fails_goes_to_the_back_of_the_queue_counted_and_is_acked_once_copied(
    consumer, caplog
):
    delivery = fail(consumer, tag=5)

    [copy] = consumer.publisher.copies
    assert (copy.routing_key, copy.delivery.body) == ("q", b"one dot.")
    assert copy.properties.headers == {"row": 7, "x-failures": 1}
    assert copy.properties.delivery_mode == 2
    assert consumer.channel.calls == []  # not acked before the broker has the copy
    assert consumer.parked == {5: False} and consumer.in_hand == 0
    assert "row 7 failed on try 1 of 2 (OverflowError('too long')); back to the end of q for " in (
        caplog.text
    )

    consumer._copied(delivery, None)  # the broker confirmed the copy
    assert consumer.channel.calls == [("ack", 5)]
    assert consumer.parked == {} and consumer.rows_done.count == 0


def test_a_task_that_failed_before_is_set_aside_after_its_last_try(consumer, caplog):
    fail(consumer, tag=6, failures=1)

    [copy] = consumer.publisher.copies
    assert copy.routing_key == "q.dead-letter"
    assert copy.properties.headers == {
        "row": 7,
        "x-failures": 2,
        "x-set-aside-reason": "work failed on try 2 of 2: OverflowError('too long')",
        "x-original-queue": "q",
    }
    assert "row 7 failed on try 2 of 2 (OverflowError('too long')); set aside in q.dead-letter" in (
        caplog.text
    )


def test_a_redelivered_task_has_not_failed(consumer):
    """Redelivered after a crash: the same try again, however often."""
    fail(consumer, tag=7, redelivered=True)
    [copy] = consumer.publisher.copies
    assert (copy.routing_key, copy.properties.headers["x-failures"]) == ("q", 1)


def test_a_message_that_is_not_utf8_is_set_aside_at_once(consumer):
    deliver(consumer, b"\xff\xfe", tag=8)
    [copy] = consumer.publisher.copies
    assert copy.routing_key == "q.dead-letter"
    assert copy.properties.headers["x-set-aside-reason"] == "body is not UTF-8"
    assert consumer.parked == {8: False} and consumer.work_queue.empty()


def test_a_copy_the_broker_refused_leaves_its_task_unacked(consumer):
    delivery = fail(consumer, tag=9)
    consumer._copied(delivery, pika.exceptions.NackError([]))
    assert consumer.channel.calls == [] and consumer.parked == {}


def test_while_the_publisher_is_blocked_a_parked_task_lends_its_slot(consumer):
    consumer.publisher.blocked = True
    delivery = fail(consumer, tag=10)
    assert consumer.channel.calls == [("consume", "q")]  # one more task meanwhile
    assert consumer.parked == {10: True}

    consumer._copied(delivery, None)
    assert consumer.channel.calls[1:] == [("cancel", "lent-1"), ("ack", 10)]
    assert consumer.lent == []


def test_tasks_parked_before_the_publisher_was_blocked_lend_their_slots_once(consumer):
    fail(consumer, tag=11)
    consumer._lend_all()  # as RabbitMQ blocks the publisher
    consumer._lend_all()
    assert consumer.channel.calls == [("consume", "q")]
    assert consumer.parked == {11: True}


def test_with_a_prefetch_above_1_a_parked_task_lends_one_slot_only(consumer):
    """RabbitMQ applies basic.qos to the consumers started after it: the lent ones."""
    consumer.settings = worker.Settings("q", "classic", "w1", prefetch=3, per_dot=0.001)
    consumer.publisher.blocked = True
    fail(consumer, tag=13)
    assert consumer.channel.calls == [("qos", 1), ("consume", "q")]


def test_with_no_prefetch_limit_there_is_no_slot_to_lend(consumer):
    consumer.settings = worker.Settings("q", "classic", "w1", prefetch=0, per_dot=0.001)
    consumer.publisher.blocked = True
    fail(consumer, tag=12)
    assert consumer.channel.calls == [] and consumer.parked == {12: False}


def test_rows_done_stay_bounded_and_are_named_in_runs():
    rows = RowRuns()
    for row in range(1, 300_000, 3):  # one worker of three: no two of its rows consecutive
        rows.add(row)
    assert rows.count == 100_000
    assert len(rows.runs) == MOST_ROWS_NAMED
    assert str(rows).endswith(f", 58 and {100_000 - MOST_ROWS_NAMED} more")
    assert str(RowRuns([1, 2, 3, 7])) == "rows 1-3, 7"
