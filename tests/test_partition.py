"""make partition's bookkeeping: which rows the emitter had confirmed, read from what it says.

The run itself (tools/partition.py, root, network namespaces, about 4 minutes) is `make
partition`; these tests check that it reads the emitter's lines as the emitter writes them.
"""

from __future__ import annotations

from tools.partition import confirmed_rows
from utils.errors import BrokerError, ExitCode
from v3_emitter_of_tasks import Outcome, failure_line


def test_an_emitter_that_exits_0_had_every_row_confirmed():
    assert confirmed_rows(ExitCode.OK, [], 5) == ({1, 2, 3, 4, 5}, True)


def test_the_rows_the_emitter_names_as_not_confirmed_are_left_out():
    outcome = Outcome(sent=10, confirmed=7, refused=[2, 3], unconfirmed=[10])
    line = f"v3_emitter_of_tasks: error: {failure_line(outcome)}"
    assert confirmed_rows(ExitCode.FAILURE, ["a line before", line], 12) == (
        {1, 4, 5, 6, 7, 8, 9},
        True,
    )


def test_a_line_that_names_only_some_rows_gives_an_upper_bound():
    refused = list(range(1, 200, 2))  # 100 runs of one row: the line names the first 20
    outcome = Outcome(sent=200, confirmed=100, refused=refused)
    line = failure_line(outcome)
    confirmed, exact = confirmed_rows(ExitCode.FAILURE, [line], 200)
    assert not exact
    assert set(refused[:20]).isdisjoint(confirmed)
    assert set(range(2, 201, 2)) <= confirmed


def test_an_emitter_stopped_with_nothing_in_flight_had_its_sent_rows_confirmed():
    outcome = Outcome(sent=4, confirmed=4, error=BrokerError("lost the connection"))
    assert confirmed_rows(ExitCode.FAILURE, [failure_line(outcome)], 9) == ({1, 2, 3, 4}, True)


def test_an_emitter_that_said_nothing_had_nothing_confirmed():
    assert confirmed_rows(ExitCode.FAILURE, ["Traceback (most recent call last):"], 9) == (
        set(),
        True,
    )
