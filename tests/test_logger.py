"""The scripts' logger: one log file shared whole by several processes, in the project's logs/
whatever the current directory, and its fast path for a worker's task lines."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from tests.support import UNREACHABLE, run_script, script_env
from utils import PROJECT_ROOT
from utils.util_logger import LOG_DIR_VARIABLE


def test_workers_started_together_never_truncate_or_garble_the_log(tmp_path):
    """Defect 6: the logger opened its file with "w"; workers truncated each other's lines."""
    probe = "concurrent_log_probe"
    log_file = tmp_path / "logs" / f"{probe}.log"
    writer = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from utils.util_logger import setup_logger;"
        f"logger, _ = setup_logger('{probe}.py');"
        "[logger.info('line %05d %s', n, 'x' * 300) for n in range(2000)]"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", writer, str(PROJECT_ROOT)],
            stdout=subprocess.DEVNULL,
            cwd=tmp_path,
            env=dict(os.environ, **{LOG_DIR_VARIABLE: str(log_file.parent)}),
        )
        for _ in range(4)
    ]
    assert [process.wait(timeout=60) for process in processes] == [0, 0, 0, 0]
    lines = log_file.read_text().splitlines()

    message = r"(line \d{5} x{300}|Logging started .*)"
    line = re.compile(rf"^\S+ \S+\.{probe}\.INFO \[pid (\d+)\] {message}$")
    parsed = [line.match(text) for text in lines]
    assert all(parsed), [text for text, match in zip(lines, parsed) if not match][:3]
    per_process = {}
    for match in parsed:
        per_process[match.group(1)] = per_process.get(match.group(1), 0) + 1
    assert sorted(per_process.values()) == [2001] * 4  # banner + 2,000 lines each


def test_logs_go_to_the_project_whatever_the_current_directory(tmp_path):
    """Defect 8: logs/ was created in whatever directory the script was started from.

    The default, WORK_QUEUE_LOG_DIR unset, on a copy of the script and of utils/: the copy's
    logs/ gets the lines, and the project's own logs/ is left as it was.
    """
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT / "utils", project / "utils", ignore=shutil.ignore_patterns("__pycache__")
    )
    script = shutil.copy(PROJECT_ROOT / "v2_emitter_of_tasks.py", project)

    result = run_script(str(script), env=script_env(UNREACHABLE, log_dir=None), cwd=tmp_path)

    assert result.returncode == 1
    assert not (tmp_path / "logs").exists()
    log_file = project / "logs" / "v2_emitter_of_tasks.log"
    assert "cannot connect to RabbitMQ" in log_file.read_text()


def test_every_line_of_a_multi_line_record_names_its_process():
    import logging

    from utils.util_logger import FILE_FORMAT, EveryLineFormatter

    record = logging.LogRecord("v3", logging.INFO, "", 0, "one\ntwo", (), None)
    lines = EveryLineFormatter(FILE_FORMAT).format(record).split("\n")
    assert len(lines) == 2
    assert all(" [pid " in line for line in lines)
    assert lines[0].endswith("] one") and lines[1].endswith("] two")
