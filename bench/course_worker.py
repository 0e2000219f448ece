"""The course's worker loop: the tutorial's callback, its two lines through logging.

    RABBITMQ_URL=... python -m bench.course_worker [--queue Q] [--seconds-per-dot S]

What the course's worker does with the course's util_logger: each task's " [x] Received"
and " [x] Done." lines go through logging.info to an append-mode log file and to the
console (a StreamHandler), both in the course's format. It sleeps per '.' in its callback
as the tutorial does (not at all with --seconds-per-dot 0, the default), acks, then says
Done. The baseline of the v3 worker's graded figures. SIGINT or SIGTERM stops it, exit 0.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from pathlib import Path

from bench.bare_worker import consume, make_argument_parser
from utils import PROJECT_ROOT
from utils.util_logger import LOG_DIR_VARIABLE

COURSE_FORMAT = "%(asctime)s.%(name)s.%(levelname)s %(message)s"

logger = logging.getLogger("course_worker")


def setup_course_logger() -> None:
    """The course's util_logger, its file opened for appending: a file and a console."""
    log_dir = Path(os.environ.get(LOG_DIR_VARIABLE) or PROJECT_ROOT / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter(COURSE_FORMAT)
    for handler in (
        logging.FileHandler(log_dir / "course_worker.log", "a"),
        logging.StreamHandler(sys.stdout),
    ):
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # under a peer's worker (bench/*_peer.py) the root logs too


def callback(per_dot: float, channel, method, _properties, body: bytes) -> None:
    """The tutorial's callback, through the logger: Received, sleep per dot, ack, Done."""
    logger.info(" [x] Received %s", body.decode())
    if per_dot:
        time.sleep(body.count(b".") * per_dot)
    channel.basic_ack(delivery_tag=method.delivery_tag)
    logger.info(" [x] Done.")


def main(argv: list[str] | None = None) -> int:
    """Consume from the queue until SIGINT or SIGTERM."""
    args = make_argument_parser().parse_args(argv)
    setup_course_logger()
    return consume(args.queue, functools.partial(callback, args.seconds_per_dot), logger.info)


if __name__ == "__main__":
    sys.exit(main())
