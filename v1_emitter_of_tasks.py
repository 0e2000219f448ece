"""v1 emitter of tasks: send one task to the durable queue "task_queue".

Tutorial form, top to bottom, as in RabbitMQ's tutorial "Work Queues".
The task is the command-line words, or "New task..." by default; each '.' is a
second of simulated work for the worker that takes it.

    python v1_emitter_of_tasks.py First task....
"""

from utils.errors import missing_module  # first: it checks the Python version

try:
    import pika
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    raise SystemExit(missing_module(__file__, missing)) from None

from utils.admin_panel import offer_rabbitmq_admin_site
from utils.alarms import say_when_blocked
from utils.arguments import task_words
from utils.broker_errors import exit_on_error
from utils.parameters import connection_parameters
from utils.queues import PERSISTENT, use_queue_as_it_is
from utils.urls import rabbitmq_url
from utils.util_logger import setup_logger

logger, logname = setup_logger(__file__)

url = rabbitmq_url()  # RABBITMQ_URL, or guest@localhost
words = task_words(__file__, __doc__)  # the command-line words; -h or --help: the usage

# any failure below is one clear line and exit status 1 (2 for a bad RABBITMQ_URL)
with exit_on_error(logger, url) as explain:
    offer_rabbitmq_admin_site(url, logger)

    # connect to the broker and open a channel on the connection
    connection = pika.BlockingConnection(connection_parameters(url))
    channel = connection.channel()
    # RabbitMQ blocks publishers while it is low on disk or memory: say so, and why
    explain.watch = say_when_blocked(connection, logger)

    # durable=True: the queue survives a broker restart
    try:
        channel.queue_declare(queue="task_queue", durable=True)
    except pika.exceptions.ChannelClosedByBroker as refused:  # someone else set it up
        channel = use_queue_as_it_is(connection, "task_queue", refused)

    message = " ".join(words) or "New task..."

    # delivery mode 2 (persistent): the message is written to disk, so it too survives
    channel.basic_publish(
        exchange="",
        routing_key="task_queue",
        body=message.encode("utf-8"),
        properties=pika.BasicProperties(delivery_mode=PERSISTENT),
    )
    # closing the channel waits for the broker, so a publish it refused fails here, loudly
    channel.close()
    logger.info(" [x] Sent %s", message)

    connection.close()
