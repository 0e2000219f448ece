"""v2 emitter of tasks: send one task to the durable queue "task_queue2".

The v1 emitter rewritten with functions, main() and error handling.

    python v2_emitter_of_tasks.py Second task.....
"""

from __future__ import annotations

import sys

from utils.errors import ExitCode, ScriptError, missing_module, report

try:
    import pika
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing))

from utils.admin_panel import offer_rabbitmq_admin_site
from utils.alarms import say_when_blocked
from utils.arguments import task_words
from utils.broker_errors import broker_error
from utils.connect import closed_at_the_end, connect
from utils.parameters import connection_parameters
from utils.queues import PERSISTENT, use_queue_as_it_is
from utils.urls import rabbitmq_url
from utils.util_logger import setup_logger

QUEUE = "task_queue2"
DEFAULT_MESSAGE = "Second task....."

logger, logname = setup_logger(__file__)


def send_message(url: str, queue_name: str, message: str) -> None:
    """Publish one persistent message to a durable queue."""
    connection = connect(connection_parameters(url))  # an open connection, or it raises
    watch = say_when_blocked(connection, logger)  # RabbitMQ low on disk or memory blocks publishers
    with closed_at_the_end(connection, watch):
        try:
            channel = connection.channel()
            try:
                channel.queue_declare(queue=queue_name, durable=True)
            except pika.exceptions.ChannelClosedByBroker as refused:  # someone else set it up
                channel = use_queue_as_it_is(connection, queue_name, refused)
            channel.basic_publish(
                exchange="",
                routing_key=queue_name,
                body=message.encode("utf-8"),
                properties=pika.BasicProperties(delivery_mode=PERSISTENT),
            )
            channel.close()  # waits for the broker: a publish it refused raises here
            logger.info(" [x] Sent %s", message)
        except pika.exceptions.AMQPError as error:
            raise broker_error(error, watch) from None  # names the alarm if it blocked us long


def main(argv: list[str] | None = None) -> int:
    """Send the command-line words, or the default task."""
    words = task_words(__file__, __doc__, argv)  # -h or --help prints the usage and exits
    url = rabbitmq_url()
    try:
        offer_rabbitmq_admin_site(url, logger)
        send_message(url, QUEUE, " ".join(words) or DEFAULT_MESSAGE)
    except ScriptError as error:
        return report(logger, error)
    except pika.exceptions.AMQPError as error:
        return report(logger, broker_error(error))
    except KeyboardInterrupt:
        interrupted = "interrupted (Ctrl+C); the task was sent only if a Sent line shows above"
        return report(logger, ScriptError(interrupted))
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
