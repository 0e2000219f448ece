"""Celery, a peer of the v3 scripts: its worker draining no-op tasks, its `delay` publishing.

    RABBITMQ_URL=... python -m celery -A bench.celery_peer worker --pool prefork \
        --concurrency 1 --loglevel WARNING --without-mingle --without-gossip
    RABBITMQ_URL=... python -m bench.celery_peer fill N      # N no-op tasks, no confirms
    RABBITMQ_URL=... python -m bench.celery_peer send CSV    # a task a row, confirmed

Celery's worker as the v3 worker is run: one task at a time (a prefork pool of one child,
a prefetch multiplier of 1) acked after its work (`acks_late`). Its main process owns the
connection and hands each task to the pool's child process, which sends the result back; the
main process then acks. The task says Received through the course's logger
(bench/course_worker.py: a file and the console) and the request says Done once it has acked:
the same two records a task as the v3 worker; Celery's own lines a task are INFO records, left
out by `--loglevel WARNING`. `--without-mingle --without-gossip`: one worker has no cluster to
sync with at start-up. Messages are Celery's own (protocol 2: the task's name and id in the
headers, JSON arguments), in its own queue `celery`. `delay` runs with publisher confirms
on (`confirm_publish`): each call returns once the broker has confirmed its message.
"""

from __future__ import annotations

import os
import sys

from celery import Celery
from celery.worker.request import Request

from bench import peer_client
from bench.course_worker import logger, setup_course_logger

app = Celery("bench_peer", broker=os.environ["RABBITMQ_URL"])
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    worker_concurrency=1,
    worker_pool="prefork",
    worker_redirect_stdouts=False,  # the course's console handler writes to stdout itself
    broker_transport_options={"confirm_publish": True},
    broker_connection_retry_on_startup=True,
)


class SayDone(Request):
    """The Done line, in the main process, right after the ack (the task's result came back)."""

    def acknowledge(self) -> None:
        super().acknowledge()
        logger.info(" [x] Done.")


@app.task(name="noop", Request=SayDone)
def noop(text: str) -> None:
    """A no-op task that says it was received, as the v3 worker's zero-dot task does."""
    logger.info(" [x] Received %s", text)


def unconfirmed() -> None:
    """Publish without confirms, to fill the queue fast (not measured)."""
    app.conf.broker_transport_options = {"confirm_publish": False}  # before the first publish


setup_course_logger()  # in the worker's processes too, which import this module

if __name__ == "__main__":
    sys.exit(peer_client.main(None, "Celery", noop.delay, unconfirmed, app.close))
