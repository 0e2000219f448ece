"""The v3 worker's decisions, without a broker: what becomes of a delivery, and when."""

from __future__ import annotations

import argparse
import logging
import queue
import threading

import pika
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
    ("outcome", "channel_open", "redelivered", "expected"),
    [
        (Outcome.DONE, True, False, Settle.ACK),
        (Outcome.DONE, True, True, Settle.ACK),
        (Outcome.DONE, False, False, Settle.LEAVE),  # the broker has requeued it
        (Outcome.SKIPPED_STOPPING, True, False, Settle.LEAVE),  # requeued when we close
        (Outcome.SKIPPED_CONNECTION_LOST, True, False, Settle.LEAVE),
        (Outcome.FAILED, True, False, Settle.RETRY),
        (Outcome.FAILED, True, True, Settle.SET_ASIDE),
        (Outcome.FAILED, False, True, Settle.LEAVE),
    ],
)
def test_what_becomes_of_a_delivery(outcome, channel_open, redelivered, expected):
    assert worker.settle(outcome, channel_open, redelivered) is expected


def test_a_failed_task_gets_one_more_try_then_is_set_aside():
    assert worker.after_failure(redelivered=False) is Settle.RETRY
    assert worker.after_failure(redelivered=True) is Settle.SET_ASIDE


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

    def basic_nack(self, delivery_tag: int, requeue: bool) -> None:
        self.calls.append(("nack", delivery_tag, requeue))


class FakeConnection:
    def __init__(self) -> None:
        self.fake_channel = FakeChannel()

    def channel(self) -> FakeChannel:
        return self.fake_channel


@pytest.fixture
def consumer():
    settings = worker.Settings("q", "classic", "w1", prefetch=1, per_dot=0.001)
    made = worker.Consumer(
        FakeConnection(), settings, threading.Event(), queue.SimpleQueue(), RowRuns()
    )
    return made


def deliver(consumer, body: bytes, tag: int = 1, row: int = 7, redelivered: bool = False):
    method = pika.spec.Basic.Deliver(delivery_tag=tag, redelivered=redelivered)
    properties = pika.BasicProperties(headers={"row": row})
    consumer._on_message(consumer.channel, method, properties, body)


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


def test_a_task_that_fails_is_nacked_for_one_more_try(consumer):
    deliver(consumer, b"one dot.", tag=5)
    delivery = consumer.work_queue.get_nowait()
    consumer.finish(delivery, WorkResult(Outcome.FAILED, OverflowError("too long")))
    assert consumer.channel.calls == [("nack", 5, True)]
    assert consumer.rows_done.count == 0


def test_a_redelivered_task_that_fails_again_is_set_aside(consumer, monkeypatch):
    set_aside = []
    monkeypatch.setattr(worker, "set_aside", lambda *args: set_aside.append(args))
    deliver(consumer, b"one dot.", tag=6, redelivered=True)
    delivery = consumer.work_queue.get_nowait()
    consumer.finish(delivery, WorkResult(Outcome.FAILED, OverflowError("too long")))

    [(_channel, queue_name, method, _properties, body, reason)] = set_aside
    assert (queue_name, method.delivery_tag, body) == ("q", 6, b"one dot.")
    assert reason == "failed on redelivery: OverflowError('too long')"


def test_rows_done_stay_bounded_and_are_named_in_runs():
    rows = RowRuns()
    for row in range(1, 300_000, 3):  # one worker of three: no two of its rows consecutive
        rows.add(row)
    assert rows.count == 100_000
    assert len(rows.runs) == MOST_ROWS_NAMED
    assert str(rows).endswith(f", 58 and {100_000 - MOST_ROWS_NAMED} more")
    assert str(RowRuns([1, 2, 3, 7])) == "rows 1-3, 7"
