"""Ctrl+C or SIGTERM mid-stream: the v3 emitter stops cleanly and says how to carry on.

It stops reading, waits briefly for the confirms of the rows in flight, names what was
confirmed and prints the command that carries on."""

from __future__ import annotations

import re
import shlex
import signal
from collections import Counter

import pytest

from harness.children import script_env, wait_until

pytestmark = pytest.mark.broker

ROWS = 50_000  # seconds of sending: the signal comes long before the end
STOPPED = re.compile(
    r"v3_emitter_of_tasks: error: (.+) before every row was confirmed; (\d+) rows were already "
    r"sent(?:; \d+ of \d+ rows not confirmed \(.*\): rows .*)? \((\d+) confirmed\); "
    r"resume with: (\S+ v3_emitter_of_tasks.py .*)$"
)


@pytest.mark.parametrize(
    ("signum", "cause"),
    [(signal.SIGTERM, "stopped by SIGTERM"), (signal.SIGINT, "interrupted (Ctrl+C)")],
)
def test_a_stop_signal_mid_stream_names_what_was_confirmed_and_how_to_resume(
    vhost, workers, tmp_path, signum, cause
):
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"task {row}\n" for row in range(1, ROWS + 1)))
    env = script_env(vhost.url, log_dir=tmp_path)
    emitter = workers("v3_emitter_of_tasks.py", str(csv_file), "--quiet", env=env)
    wait_until(
        lambda: vhost.ready_count("task_queue3", missing_ok=True) >= 2000,
        what="2,000 rows in the queue",
    )
    emitter.send(signum)
    stopped = emitter.wait(timeout=30)

    last = emitter.output.strip().splitlines()[-1]
    match = STOPPED.match(last)
    assert stopped.code == 1, emitter.output
    assert match, last
    said, sent, confirmed, command = match.groups()
    assert said == cause
    assert 2000 <= int(confirmed) <= int(sent) < ROWS
    assert stopped.seconds < 15  # the start, the sending, a few seconds' grace at most
    assert vhost.ready_count("task_queue3") >= int(confirmed)

    words = shlex.split(command)
    assert words[2:-1] == [str(csv_file), "--queue", "task_queue3", "--quiet", "--from-row"]
    resumed = workers(*words[1:], env=env)  # the script and its arguments, after "python"
    assert resumed.wait(timeout=120).code == 0, resumed.output
    rows = Counter(properties.headers["row"] for _, properties in vhost.take_all("task_queue3"))
    assert set(rows) == set(range(1, ROWS + 1))
