"""v1 listening worker: take tasks from "task_queue", one at a time, until Ctrl+C.

Tutorial form, top to bottom, as in RabbitMQ's tutorial "Work Queues".
Each '.' in a task is SECONDS_PER_DOT seconds of simulated work (default 1).

    python v1_listening_worker.py
"""

from utils.errors import ExitCode, missing_module  # first: it checks the Python version

try:
    import pika
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    raise SystemExit(missing_module(__file__, missing)) from None

from utils.arguments import no_arguments
from utils.broker_errors import consuming_cancelled, exit_on_error
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

logger, logname = setup_logger(__file__)

url = rabbitmq_url()  # RABBITMQ_URL, or guest@localhost

# Ctrl+C and kill both stop us (a background job starts with Ctrl+C ignored); until we
# are connected, at once
raise_keyboard_interrupt_on_stop_signals()

# any failure below is one clear line and exit status 1 (2 for bad settings);
# a worker stopped by Ctrl+C exits 0
with exit_on_error(logger, url, interrupted=ExitCode.OK):
    no_arguments(__file__, __doc__)  # -h or --help: the usage; settings are in the environment
    per_dot = seconds_per_dot()  # SECONDS_PER_DOT, default 1

    # connect to the broker and open a channel on the connection
    connection = pika.BlockingConnection(connection_parameters(url))
    channel = connection.channel()

    # connected: from now on Ctrl+C only asks to stop, and we stop where pika lets us, so
    # the connection closes cleanly (a second Ctrl+C stops at once)
    stop = GracefulStop()
    stop.install()

    # the same durable queue the emitter declares: whoever starts first creates it
    try:
        channel.queue_declare(queue="task_queue", durable=True)
    except pika.exceptions.ChannelClosedByBroker as refused:  # someone else set it up
        channel = use_queue_as_it_is(connection, "task_queue", refused)

    def callback(ch, method, properties, body):
        """Do the task, then acknowledge it: a task is removed only once it is done."""
        try:
            task = body.decode("utf-8")
        except UnicodeDecodeError:
            logger.warning(" [!] Set aside a message that is not UTF-8 text")
            set_aside(ch, "task_queue", method, properties, body, "body is not UTF-8")
            return
        logger.info(" [x] Received %s", task)
        if wait_or_stop(stop.requested, work_seconds(task, per_dot)):  # the work, or Ctrl+C
            return  # not acked: the broker gives the task to another worker
        logger.info(" [x] Done.")
        ch.basic_ack(delivery_tag=method.delivery_tag)

    # fair dispatch: no new task for a worker until it has acked the one it holds
    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue="task_queue", on_message_callback=callback)

    logger.info(" [*] Ready for work. To exit press CTRL+C")
    stop_consuming_when_asked(stop, connection, channel)
    channel.start_consuming()
    if not stop.requested.is_set():  # start_consuming returned: the broker cancelled us
        connection.close()
        raise consuming_cancelled("task_queue")
    # the task in hand, if any, was not acked: the broker gives it to another worker
    logger.info(" [*] Stopping: closing the connection.")
    connection.close()
