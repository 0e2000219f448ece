"""The v3 worker's pure decisions, without a broker: the options it takes, what becomes of a
task whose work failed, and how it waits between reconnection attempts."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pika
import pytest

import v3_listening_worker as worker  # importing writes no log: setup_logger is in main()
from utils.signals import SLICE, wait_or_stop

SETTINGS = worker.Settings("q", "classic", "w1", 1, 1.0, retries=2, work=worker.work)


def failed(text: str | None, headers: dict | None, error: str = "RuntimeError('no')"):
    """A delivery whose work failed, as the work thread hands it back."""
    properties = pika.BasicProperties(headers=headers, message_id="m1")
    method = pika.spec.Basic.Deliver(delivery_tag=1)
    failures = worker.failures_of(headers)
    row = (headers or {}).get("row", "?")
    consumer: Any = None  # copy_of reads no consumer
    delivery = worker.Delivery(consumer, method, properties, b"body", text, 0.0, row, failures)
    delivery.error = error
    return delivery


@pytest.mark.parametrize(
    ("headers", "failures"),
    [(None, 0), ({}, 0), ({"x-failures": 2}, 2), ({"x-failures": "2"}, 0), ({"x-failures": -1}, 0)],
)
def test_the_failures_so_far_are_the_x_failures_header(headers, failures):
    assert worker.failures_of(headers) == failures


@pytest.mark.parametrize(("before", "retried"), [(0, True), (1, True), (2, False), (5, False)])
def test_a_failed_task_is_retried_per_failure_then_set_aside(before, retried):
    where, headers, said = worker.copy_of(
        failed("Task.", {"row": 4, "x-failures": before}), SETTINGS
    )
    assert headers["x-failures"] == before + 1
    assert headers["row"] == 4
    if retried:
        assert where == "q"
        assert said == (
            f"row 4 failed on try {before + 1} of 3 (RuntimeError('no')); back to the end of q "
            f"for try {before + 2}"
        )
        assert "x-set-aside-reason" not in headers
    else:
        assert where == "q.dead-letter"
        assert said.endswith("(RuntimeError('no')); set aside in q.dead-letter")
        tried = f"try {before + 1} of {before + 1}"
        assert headers["x-set-aside-reason"] == f"work failed on {tried}: RuntimeError('no')"
        assert headers["x-original-queue"] == "q"


def test_a_message_that_is_not_utf8_is_set_aside_at_once():
    where, headers, said = worker.copy_of(failed(None, None, "body is not UTF-8"), SETTINGS)
    assert (where, said) == (
        "q.dead-letter",
        "set aside a message that is not UTF-8 in q.dead-letter",
    )
    assert headers == {"x-set-aside-reason": "body is not UTF-8", "x-original-queue": "q"}


@pytest.mark.parametrize(("option", "most"), [("--retries", 1000), ("--prefetch", 65535)])
def test_counts_from_0_to_their_most(option, most, capsys):
    parser = worker.make_argument_parser()
    for good in ("0", "1", str(most)):
        assert getattr(parser.parse_args([option, good]), option[2:]) == int(good)
    for bad in ("-1", str(most + 1), "1.5", "many", ""):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args([option, bad])
        assert exited.value.code == 2
        assert f"must be a whole number from 0 to {most}" in capsys.readouterr().err


class NeverWaitedOn(threading.Event):
    """A flag a signal handler sets: waiting on it would take the lock that set() needs."""

    def wait(self, timeout: float | None = None) -> bool:
        raise AssertionError("wait_or_stop blocked in Event.wait, whose lock the handler needs")


def test_a_wait_is_sleeps_of_a_slice_cut_short_by_a_stop_without_waiting_on_the_flag(
    monkeypatch,
):
    stop, sleeps = NeverWaitedOn(), []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            stop.set()  # as the handler does, between two sleeps

    monkeypatch.setattr("utils.signals.time.sleep", sleep)
    assert wait_or_stop(stop, 30.0) is True  # a stop cuts the 30 s short
    assert sleeps == [SLICE] * 3


def test_a_stop_signal_during_a_long_wait_is_noticed_within_a_slice():
    """A real signal, its handler setting the flag on the waiting thread as the worker's does:
    the wait ends once the slice it lands in is over, not at its 30 s."""
    stop, set_at = NeverWaitedOn(), []

    def handler(_signum, _frame) -> None:
        set_at.append(time.monotonic())
        stop.set()

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        assert wait_or_stop(stop, 30.0) is True
        noticed = time.monotonic() - set_at[0]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert noticed <= SLICE + 0.2  # the rest of one slice, and the scheduler's delay


def test_a_wait_no_stop_cuts_short_lasts_its_time():
    stop = NeverWaitedOn()
    started = time.monotonic()
    assert wait_or_stop(stop, 0.25) is False
    assert time.monotonic() - started >= 0.25


class Unnameable(Exception):
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (SystemExit(3), "SystemExit(3)"),
        (KeyboardInterrupt(), "KeyboardInterrupt()"),
        (Unnameable(), "Unnameable (whose repr failed)"),
    ],
)
def test_a_failed_task_is_named_by_its_errors_repr_or_else_its_type(error, said):
    assert worker.named(error) == said
