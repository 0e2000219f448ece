"""The v3 emitter's confirm bookkeeping, without a broker.

Acks, nacks, multiple, returns, and the one list of rows to publish again: those refused,
and those a lost connection left unanswered."""

from __future__ import annotations

from utils.tasks import Task
from v3_emitter_of_tasks import Confirms, Outcome  # importing writes no log: setup is in main()


def published(rows: list[int]) -> tuple[Confirms, Outcome]:
    outcome = Outcome()
    confirms = Confirms(outcome)
    for row in rows:
        confirms.published(task(row))
    return confirms, outcome


def task(row: int) -> Task:
    return Task(row, f"task {row}.")


def rows_pending(confirms: Confirms) -> dict[int, int]:
    return {tag: task.row for tag, task in confirms.pending.items()}


def test_each_publish_takes_the_next_delivery_tag():
    confirms, outcome = published([1, 2, 4])
    assert rows_pending(confirms) == {1: 1, 2: 2, 3: 4}
    assert outcome.sent == 3
    assert outcome.last_row == 4


def test_a_single_ack_confirms_its_row_only():
    confirms, outcome = published([1, 2, 3])
    assert confirms.confirmed(2, multiple=False, acked=True) == 1
    assert outcome.confirmed == 1
    assert list(rows_pending(confirms).values()) == [1, 3]


def test_a_multiple_ack_confirms_every_row_up_to_its_tag():
    confirms, outcome = published([10, 11, 12, 13])
    assert confirms.confirmed(1, multiple=False, acked=True) == 1
    assert confirms.confirmed(3, multiple=True, acked=True) == 2
    assert outcome.confirmed == 3
    assert rows_pending(confirms) == {4: 13}


def test_nacked_rows_go_back_to_be_published_again_and_are_refused_if_still_there_at_the_end():
    confirms, outcome = published([1, 2, 3, 4])
    confirms.confirmed(2, multiple=True, acked=False)
    confirms.confirmed(4, multiple=False, acked=False)
    confirms.confirmed(3, multiple=False, acked=True)
    assert [task.row for task in confirms.again] == [1, 2, 4]
    assert outcome.refused == []
    confirms.unanswered()
    assert outcome.refused == [1, 2, 4]
    assert outcome.confirmed == 1
    assert outcome.failed_rows() == [1, 2, 4]


def test_a_refused_row_in_flight_again_is_still_refused_until_an_answer_says_otherwise():
    # --retry-for may run out while a round is in flight, its nacks not yet read: the
    # emitter then gives up naming the refusals, not a silence of 0 s
    confirms, _outcome = published([1, 2, 3])
    confirms.confirmed(2, multiple=True, acked=False)
    for each in confirms.take_again():
        confirms.published(each, again=True)  # tags 4 and 5, no answer yet
    assert confirms.nacked == {1, 2}
    confirms.confirmed(4, multiple=False, acked=True)  # row 1 taken this time
    assert confirms.nacked == {2}
    confirms.connection_lost()  # row 2 in flight: no answer will come
    assert confirms.nacked == set()


def test_every_row_published_more_than_once_is_counted_once_whatever_the_reason():
    confirms, outcome = published([1, 2, 3])
    confirms.confirmed(2, multiple=True, acked=False)  # 1 and 2 refused
    confirms.connection_lost()  # 3 in flight: no answer will come
    assert [task.row for task in confirms.again] == [1, 2, 3]
    for each in confirms.take_again():
        confirms.published(each, again=True)
    confirms.confirmed(1, multiple=False, acked=False)  # 1 refused again
    for each in confirms.take_again():
        confirms.published(each, again=True)  # its third publish
    confirms.confirmed(4, multiple=True, acked=True)
    assert (outcome.sent, outcome.confirmed, outcome.republished) == (3, 3, {1, 2, 3})
    assert confirms.again == [] and confirms.pending == {}


def test_a_returned_row_is_unroutable_even_once_acked():
    confirms, outcome = published([1, 2, 3])
    confirms.returned_row(2)
    confirms.confirmed(3, multiple=True, acked=True)
    assert outcome.unroutable == [2]
    assert outcome.confirmed == 2
    assert not confirms.returned


def test_rows_with_no_answer_at_the_end_are_unconfirmed():
    confirms, outcome = published([5, 6, 7])
    confirms.confirmed(1, multiple=False, acked=True)
    confirms.unanswered()
    assert outcome.unconfirmed == [6, 7]
    assert outcome.failed_rows() == [6, 7]
    assert not confirms.pending


def test_rows_left_by_a_lost_connection_go_again_with_tags_from_1_and_if_not_are_unconfirmed():
    confirms, outcome = published([1, 2, 3, 4, 5])
    confirms.confirmed(2, multiple=True, acked=True)
    confirms.returned_row(4)  # reached no queue: counted unroutable, not published again
    confirms.connection_lost()
    assert confirms.again == [task(3), task(5)]
    assert not confirms.pending

    for each in confirms.take_again():
        confirms.published(each, again=True)
    assert rows_pending(confirms) == {1: 3, 2: 5}
    confirms.confirmed(1, multiple=False, acked=False)  # 3 refused on the new channel
    confirms.connection_lost()  # 5 in flight again
    confirms.unanswered()
    assert (outcome.sent, outcome.republished, outcome.confirmed) == (5, {3, 5}, 2)
    assert (outcome.refused, outcome.unconfirmed, outcome.unroutable) == ([3], [5], [4])
    assert outcome.last_row == 5  # publishing again reads nothing new
