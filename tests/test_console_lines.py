"""The v3 worker's Received line says which try a task is on; the parsers read it back."""

from __future__ import annotations

import pytest

from utils.console_lines import parse_received, received_line, received_note, try_of


@pytest.mark.parametrize(
    ("redelivered", "failures", "retries", "note"),
    [
        (False, 0, 1, ""),  # a first try says nothing
        (True, 0, 1, "redelivered"),  # after a crash: the same try again
        (False, 1, 1, "try 2 of 2"),
        (True, 1, 2, "redelivered, try 2 of 3"),
        (False, 3, 1, "try 4 of 4"),  # retried by a worker with more --retries than this one
    ],
)
def test_the_received_note_says_redelivered_and_which_try(redelivered, failures, retries, note):
    assert received_note(redelivered, failures, retries) == note


def test_try_of_counts_the_first_try():
    assert try_of(1, retries=0) == "try 1 of 1"
    assert try_of(3, retries=2) == "try 3 of 3"


@pytest.mark.parametrize(
    ("note", "redelivered", "attempt"),
    [
        ("", False, 1),
        ("redelivered", True, 1),
        ("try 2 of 2", False, 2),
        ("redelivered, try 3 of 3", True, 3),
    ],
)
def test_a_received_line_is_read_back_with_its_try(note, redelivered, attempt):
    line = received_line(8, "w1", 1_700_000_000.25, "Eighth task..", note)

    received = parse_received(line)

    assert (received.row, received.worker, received.text) == (8, "w1", "Eighth task..")
    assert (received.note, received.redelivered, received.attempt) == (note, redelivered, attempt)
