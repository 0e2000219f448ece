"""utils.util_logger: where each line goes, and whole lines from processes sharing one file.

Also the project's logs/ whatever the current directory, and closed pipes."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.children import run_script, script_env
from tests.support import UNREACHABLE
from utils import PROJECT_ROOT, util_logger
from utils.util_logger import LOG_DIR_VARIABLE

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\.(\w+)\.(\w+) \[pid (\d+)\] (.*)$")


@pytest.fixture
def script_logger(tmp_path, monkeypatch):
    """setup_logger called in the test (its console then the captured one), logs in tmp_path.

    setup_logger configures the script's logger and two shared ones, `utils` (made
    non-propagating) and `pika`: each is put back as it was, so later tests (and caplog,
    which listens at the root) see what they would have seen.
    """
    monkeypatch.setenv(util_logger.LOG_DIR_VARIABLE, str(tmp_path))
    shared = [logging.getLogger("utils"), logging.getLogger("pika")]
    before = {logger: (list(logger.handlers), logger.level, logger.propagate) for logger in shared}
    collected = (logging._srcfile, logging.logThreads, logging.logMultiprocessing)
    made: list[logging.Logger] = []

    def make(name: str = "probe") -> tuple[logging.Logger, Path]:
        logger, path = util_logger.setup_logger(str(tmp_path / f"{name}_{tmp_path.name}.py"))
        made.append(logger)
        before.setdefault(logger, ([], logging.NOTSET, True))
        return logger, path

    yield make
    for logger, (handlers, level, propagate) in before.items():
        for handler in [h for h in logger.handlers if h not in handlers]:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(level)
        logger.propagate = propagate
    logging._srcfile, logging.logThreads, logging.logMultiprocessing = collected


def file_lines(path) -> list[re.Match]:
    lines = path.read_text().splitlines()
    not_matched = [line for line in lines if not LINE.match(line)]
    assert not_matched == [], not_matched[:3]
    return [match for match in map(LINE.match, lines) if match]


def test_progress_goes_to_stdout_problems_to_stderr_and_everything_to_the_file(
    script_logger, capsys
):
    logger, path = script_logger()
    logger.info(" [x] progress")
    logger.warning(" [!] a warning")
    logger.error("probe: error: a failure")

    console = capsys.readouterr()
    assert console.out == " [x] progress\n"
    assert console.err == " [!] a warning\nprobe: error: a failure\n"
    banner, *rest = file_lines(path)
    assert banner[4].startswith("Logging started ") and f"log {path}" in banner[4]
    assert [(m[2], m[4]) for m in rest] == [
        ("INFO", " [x] progress"),
        ("WARNING", " [!] a warning"),
        ("ERROR", "probe: error: a failure"),
    ]


def test_every_line_of_a_multi_line_record_names_its_process(script_logger, capsys):
    logger, path = script_logger()
    logger.info("one\ntwo\n\nfour")

    assert capsys.readouterr().out == "one\ntwo\n\nfour\n"
    _banner, *lines = file_lines(path)
    assert [m[4] for m in lines] == ["one", "two", "", "four"]
    assert {m[3] for m in lines} == {str(os.getpid())}


def test_setup_twice_gives_the_same_logger_and_handlers(script_logger):
    logger, path = script_logger()
    handlers = list(logger.handlers)
    again, again_path = util_logger.setup_logger(str(path.with_suffix(".py")))
    assert again is logger and again_path == path
    assert again.handlers == handlers


def test_handlers_shared_with_the_utils_logger_close_twice_quietly(script_logger, capsys):
    """At exit logging closes each handler once per logger that holds it: the script's and
    `utils`'s. The file is closed, its lines are all there, and nothing is printed."""
    logger, path = script_logger()
    logger.info(" [x] before the end")
    for handler in logger.handlers:
        handler.close()
        handler.close()

    [file_handler] = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
    assert file_handler.stream is None  # closed
    assert " [x] before the end" in path.read_text()
    assert capsys.readouterr().err == ""


def test_pika_is_quiet_unless_pika_log_level_is_set(script_logger, monkeypatch):
    _logger, path = script_logger()
    logging.getLogger("pika.connection").error("pika's own trouble")
    assert "pika's own trouble" not in path.read_text()

    monkeypatch.setenv("PIKA_LOG_LEVEL", "warning")
    _logger, other_path = script_logger("other")
    logging.getLogger("pika.connection").error("pika's own trouble")
    assert "pika's own trouble" in other_path.read_text()


WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
from utils.util_logger import setup_logger
logger, _ = setup_logger("together.py")
for n in range(int(sys.argv[2])):
    logger.info("record %05d " + "\\n".join(["x" * 99] * int(sys.argv[3])), n)
"""


def run_writers(tmp_path, processes: int, records: int, lines_each: int) -> list[re.Match]:
    env = {"PATH": "/usr/bin:/bin", util_logger.LOG_DIR_VARIABLE: str(tmp_path)}
    started = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(PROJECT_ROOT), str(records), str(lines_each)],
            stdout=subprocess.DEVNULL,
            env=env,
        )
        for _ in range(processes)
    ]
    assert [process.wait(timeout=60) for process in started] == [0] * processes
    return file_lines(tmp_path / "together.log")


def test_a_record_longer_than_the_stream_buffer_is_written_whole(tmp_path):
    """Records of 60 kB (the emitter's bursts of lines) from three processes: never interleaved."""
    lines = run_writers(tmp_path, processes=3, records=40, lines_each=600)
    records = [match for match in lines if not match[4].startswith("Logging started")]
    assert len(records) == 3 * 40 * 600
    for start in range(0, len(records), 600):  # each record: 600 lines in a row, one pid
        record = records[start : start + 600]
        assert record[0][4].startswith("record ")
        assert not any(match[4].startswith("record ") for match in record[1:])
        assert len({match[3] for match in record}) == 1


def test_a_closed_console_pipe_does_not_stop_the_script(tmp_path):
    """`script | head -1`: the reader goes, the script carries on, silent, its log complete."""
    env = {"PATH": "/usr/bin:/bin", util_logger.LOG_DIR_VARIABLE: str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(PROJECT_ROOT), "3000", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout.readline().startswith(b"record 00000 ")
    process.stdout.close()  # as `head -1` does

    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""
    assert len(file_lines(tmp_path / "together.log")) == 3001


def test_workers_started_together_never_truncate_or_garble_the_log(tmp_path):
    """Workers appending to one log file together: every line whole, none lost."""
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
    assert all(parsed), [text for text, match in zip(lines, parsed, strict=True) if not match][:3]
    per_process = {}
    for match in parsed:
        per_process[match.group(1)] = per_process.get(match.group(1), 0) + 1
    assert sorted(per_process.values()) == [2001] * 4  # banner + 2,000 lines each


def test_logs_go_to_the_project_whatever_the_current_directory(tmp_path):
    """logs/ is the project's, whatever directory the script is started from.

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


@pytest.mark.parametrize(
    ("windows", "name"),
    [(False, "v3_listening_worker.log"), (True, "v3_listening_worker-4242.log")],
    ids=["Linux and macOS: one shared file", "Windows: one file per process"],
)
def test_on_windows_each_process_logs_to_a_file_of_its_own(windows, name):
    """Windows does not append whole: workers sharing a file could overwrite each other."""
    assert util_logger.log_file_name("v3_listening_worker", windows, 4242) == name


def test_a_windows_process_opens_its_own_file(script_logger, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "win32")
    logger, path = script_logger("windows")
    logger.info(" [x] a line")

    assert path.name == f"windows_{tmp_path.name}-{os.getpid()}.log"
    assert " [x] a line" in path.read_text(encoding="utf-8")
