"""The emitters' offer to open the RabbitMQ admin panel in a browser.

One behaviour for the three emitters: the broker is reached first (a wrong password or a
stopped broker shows before the question, not after the answer); y or yes opens the
panel, n, no or nothing goes on, anything else is asked again; and Ctrl+C or SIGTERM at
the question ends the script with one line and exit status 130, nothing sent.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import urllib.parse
import webbrowser
from collections.abc import Iterator

from utils.connect import connect
from utils.errors import ExitCode, ScriptError
from utils.parameters import connection_parameters
from utils.signals import STOP_SIGNALS
from utils.urls import ADMIN_PANEL_PORT

QUESTION = "Would you like to monitor RabbitMQ queues? y or n "
YES, NO = {"y", "yes"}, {"n", "no", ""}


class InterruptedAtQuestion(ScriptError):
    """Ctrl+C or SIGTERM while the emitter asked: nothing was sent."""

    exit_code = ExitCode.INTERRUPTED


def admin_panel_address(url: str) -> str:
    """The admin panel's queues page on the broker's host (the first one in a list)."""
    host = urllib.parse.urlsplit(url.split(",")[0].strip()).hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{ADMIN_PANEL_PORT}/#/queues"


def login_of(url: str) -> str:
    """How to log in to the panel, never with the password of a user of one's own."""
    user = urllib.parse.unquote(urllib.parse.urlsplit(url.split(",")[0].strip()).username or "")
    if user in ("", "guest"):
        return "log in as guest, password guest (from this machine only)"
    return f"log in as {user}, with the password of RABBITMQ_URL"


@contextlib.contextmanager
def signals_end_the_question() -> Iterator[None]:
    """Within it, Ctrl+C or SIGTERM raises InterruptedAtQuestion, whatever the script's
    handlers were (a background job inherits SIGINT ignored); they come back after."""

    def interrupted(signum: int, _frame: object) -> None:
        print(flush=True)  # the error line starts on a line of its own, not after ^C
        sigint = signum == signal.SIGINT
        cause = "interrupted (Ctrl+C)" if sigint else f"stopped by {signal.Signals(signum).name}"
        raise InterruptedAtQuestion(f"{cause} at the question; nothing was sent")

    previous = {signum: signal.signal(signum, interrupted) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def ask() -> bool:
    """Ask until the answer is yes or no; no input at all (Ctrl+D) is no."""
    answer = ""
    with contextlib.suppress(EOFError):
        answer = input(QUESTION).strip().lower()
    while answer not in YES | NO:
        try:
            answer = input("Please answer y or n: ").strip().lower()
        except EOFError:
            answer = ""
    print()
    return answer in YES


def offer_rabbitmq_admin_site(url: str, logger: logging.Logger) -> None:
    """Ask whether to open the admin panel; only when someone is at a terminal to answer.

    Without a terminal (a pipe, CI, a background job) input() would block or fail, so the
    question is skipped. The broker is reached first: a connection that fails raises its
    BrokerError now, before the question.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    with signals_end_the_question():
        connect(connection_parameters(url, warn=False)).close()
        if not ask():
            return
    address = admin_panel_address(url)
    if webbrowser.open_new(address):
        logger.info("Opened the RabbitMQ admin panel at %s: %s", address, login_of(url))
    else:  # no browser can start here (a server, an SSH session)
        logger.info("No browser could start here: open %s yourself and %s", address, login_of(url))
