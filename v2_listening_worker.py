"""v2 listening worker: take tasks from "task_queue2", one at a time, until Ctrl+C.

The v1 worker rewritten with functions, main() and error handling.

    python v2_listening_worker.py
"""

from __future__ import annotations

import sys
import threading

from utils.errors import ExitCode, ScriptError, missing_module, report

try:
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing))

from utils.arguments import no_arguments
from utils.broker_errors import broker_error, consuming_cancelled
from utils.connect import closed_at_the_end, connect
from utils.dead_letter import set_aside
from utils.parameters import connection_parameters
from utils.queues import use_queue_as_it_is
from utils.signals import (
    GracefulStop,
    raise_keyboard_interrupt_on_stop_signals,
    stop_consuming_when_asked,
    wait_or_stop,
)
from utils.tasks import seconds_per_dot, work_seconds
from utils.urls import rabbitmq_url
from utils.util_logger import setup_logger

QUEUE = "task_queue2"

logger, logname = setup_logger(__file__)


def make_callback(queue_name: str, per_dot: float, stop: threading.Event):
    """The message callback for a queue: do the task, then acknowledge it; a stop cuts the
    work short and leaves the task unacknowledged."""

    def callback(channel, method, properties, body: bytes) -> None:
        try:
            task = body.decode("utf-8")
        except UnicodeDecodeError:
            logger.warning(" [!] Set aside a message that is not UTF-8 text")
            set_aside(channel, queue_name, method, properties, body, "body is not UTF-8")
            return
        logger.info(" [x] Received %s", task)
        if wait_or_stop(stop, work_seconds(task, per_dot)):
            return  # stopped mid-task: the broker gives the task to another worker
        logger.info(" [x] Done.")
        # ack only after the work: if we die first, the broker gives the task to another worker
        channel.basic_ack(delivery_tag=method.delivery_tag)

    return callback


def listen(url: str, queue_name: str, per_dot: float, stop: GracefulStop) -> None:
    """Consume tasks with fair dispatch until a stop signal, then close the connection."""
    connection = connect(connection_parameters(url))
    # connected: from now on a stop signal only asks, and pika's loop stops where it can
    # (see utils/signals.py); a second one stops at once
    stop.install()
    with closed_at_the_end(connection):
        channel = connection.channel()
        try:
            channel.queue_declare(queue=queue_name, durable=True)
        except pika.exceptions.ChannelClosedByBroker as refused:  # someone else set it up
            channel = use_queue_as_it_is(connection, queue_name, refused)
        channel.basic_qos(prefetch_count=1)  # fair dispatch: one unacked task at a time
        callback = make_callback(queue_name, per_dot, stop.requested)
        channel.basic_consume(queue=queue_name, on_message_callback=callback)
        logger.info(" [*] Ready for work. To exit press CTRL+C")
        stop_consuming_when_asked(stop, connection, channel)
        channel.start_consuming()
        if not stop.requested.is_set():  # start_consuming returned: the broker cancelled us
            raise consuming_cancelled(queue_name)
        # the task in hand, if any, was not acked: the broker gives it to another worker
        logger.info(" [*] Stopping: closing the connection.")


def main(argv: list[str] | None = None) -> int:
    """Listen on task_queue2; exit 0 on Ctrl+C or SIGTERM."""
    raise_keyboard_interrupt_on_stop_signals()  # until connected: at once
    stop = GracefulStop()
    try:
        no_arguments(__file__, __doc__, argv)  # -h or --help prints the usage and exits
        listen(rabbitmq_url(), QUEUE, seconds_per_dot(), stop)
    except ScriptError as error:
        return report(logger, error)
    except pika.exceptions.AMQPError as error:
        return report(logger, broker_error(error))
    except KeyboardInterrupt:  # while connecting, or a second signal
        at_once = stop.requested.is_set()
        logger.info(" [*] Stopped at once." if at_once else " [*] Stopped before consuming.")
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
