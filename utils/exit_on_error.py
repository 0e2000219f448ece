"""For the flat v1 scripts: an expected failure becomes one line on stderr and its exit code."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pika.exceptions

from utils.alarms import BlockedPublishing
from utils.broker_errors import broker_error, failed_to_open
from utils.connect import CONNECT_ERRORS
from utils.connect_failure import connection_failure
from utils.errors import ExitCode, ScriptError, report
from utils.parameters import connection_parameters


@dataclass
class Explain:
    """What the script hands over to explain a failure: the watch on its connection, once
    say_when_blocked() gave one, names the alarm if RabbitMQ blocked it too long."""

    watch: BlockedPublishing | None = None


@contextmanager
def exit_on_error(
    logger: logging.Logger, url: str, interrupted: ExitCode = ExitCode.FAILURE
) -> Iterator[Explain]:
    """An expected failure inside the block becomes one line on stderr and its exit code.

    A connection to `url` that cannot be opened is named by host:port. Ctrl+C
    (or SIGTERM, where the script turns it into KeyboardInterrupt) ends the script with one
    line and the status `interrupted`.
    """
    explain = Explain()
    try:
        yield explain
    except ScriptError as error:
        sys.exit(report(logger, error))
    except (*CONNECT_ERRORS, pika.exceptions.AMQPError) as error:
        if failed_to_open(error):
            # the URL was read once already: no second warning about it
            params_list = connection_parameters(url, warn=False)
            sys.exit(report(logger, connection_failure(error, params_list)))
        sys.exit(report(logger, broker_error(error, explain.watch)))
    except KeyboardInterrupt:
        logger.info(" [*] Interrupted: stopped before the end.")
        sys.exit(int(interrupted))
