"""The emitters' offer to open the RabbitMQ admin panel in a browser."""

from __future__ import annotations

import logging
import signal
import sys
import urllib.parse
import webbrowser

from utils.errors import ScriptError


def admin_panel_address(url: str) -> str:
    """The admin panel's queues page on the broker's host (the first one in a list)."""
    host = urllib.parse.urlsplit(url.split(",")[0].strip()).hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:15672/#/queues"


def offer_rabbitmq_admin_site(url: str, logger: logging.Logger) -> None:
    """Ask whether to open the admin panel; only when someone is at a terminal to answer.

    Without a terminal (a pipe, CI, a background job) input() would block or fail, so the
    question is skipped.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    try:
        answer = input("Would you like to monitor RabbitMQ queues? y or n ")
    except EOFError:
        answer = ""
    print()
    if answer.strip().lower() == "y":
        address = admin_panel_address(url)
        if webbrowser.open_new(address):
            logger.info("Opened the RabbitMQ admin panel at %s", address)
        else:  # no browser can start here (a server, an SSH session)
            logger.info("No browser could start here: open %s yourself", address)


def ask_about_the_admin_panel(url: str, logger: logging.Logger) -> None:
    """The v3 emitter's offer: Ctrl+C at the question ends the run, nothing sent."""
    # a process started in the background by a script inherits SIGINT ignored: take it back
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        offer_rabbitmq_admin_site(url, logger)
    except KeyboardInterrupt:
        print()  # end the question's line
        raise ScriptError("interrupted (Ctrl+C) at the question; nothing was sent") from None
