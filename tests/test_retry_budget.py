"""The v3 emitter's one budget, --retry-for, on a clock the tests move: no broker."""

from __future__ import annotations

from utils.retry_budget import RetryBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def budget(seconds: float = 60) -> tuple[RetryBudget, Clock]:
    clock = Clock()
    return RetryBudget(seconds, silence=10, clock=clock), clock


def test_no_trouble_and_nothing_in_flight_is_no_wait():
    retry, clock = budget()
    clock.now += 1000
    assert retry.waiting_since(in_flight=False) is None
    assert retry.left(in_flight=False) > 1e9


def test_the_budget_runs_from_the_first_nack_or_loss_and_not_from_the_next():
    retry, clock = budget(60)
    assert retry.trouble() is True  # the first: it starts the budget (and its line)
    clock.now += 50
    assert retry.trouble() is False
    assert retry.left(in_flight=False) == 10
    clock.now += 10
    assert retry.next_wait(cap=10) is None  # ran out: the emitter gives up


def test_each_wait_is_a_backoff_that_never_outlasts_the_budget():
    retry, clock = budget(3)
    retry.trouble()
    waits = [retry.next_wait(cap=10) for _ in range(4)]
    assert all(wait is not None and 0 < wait <= 3 for wait in waits)
    clock.now += 2.5
    last = retry.next_wait(cap=10)
    assert last is not None and last <= 0.5


def test_an_ack_ends_the_trouble_and_starts_the_backoff_again():
    retry, clock = budget(60)
    retry.trouble()
    for _ in range(5):
        retry.next_wait(cap=10)
    clock.now += 59
    retry.heard()  # a nack, or blocked: an answer, but the broker takes no rows
    assert retry.left(in_flight=False) == 1
    retry.heard(took_rows=True)
    assert (retry.trouble_since, retry.attempts) == (None, 0)
    assert retry.waiting_since(in_flight=False) is None


def test_rows_in_flight_with_no_answer_draw_on_the_same_budget():
    retry, clock = budget(60)
    retry.heard()  # the first row in flight
    clock.now += 45
    assert retry.silent_for(in_flight=True) == 45
    assert retry.left(in_flight=True) == 15
    assert retry.left(in_flight=False) > 1e9  # nothing in flight: no silence
    retry.trouble()  # a nack now: the budget still runs from the last answer
    assert retry.left(in_flight=True) == 15


def test_rows_in_flight_are_a_wait_only_once_silent_for_a_while_even_with_no_budget():
    retry, clock = budget(0)  # --retry-for 0: no waiting at all
    retry.heard()
    clock.now += 9  # confirms take time: not yet a silence
    assert retry.left(in_flight=True) > 1e9
    clock.now += 1
    assert retry.left(in_flight=True) <= 0  # a silence, and no budget for it
