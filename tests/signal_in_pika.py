"""Run a script with stop signals that arrive inside pika at its worst moment.

    python -m tests.signal_in_pika COUNT SCRIPT [ARGS...]

runs SCRIPT (from the project root, as `python SCRIPT ARGS` would) and sends it COUNT SIGINTs
right after pika has put its third Basic.Ack in its send buffer and before it asks its I/O
loop to send it (pika 1.4's _AsyncTransportBase._buffer_tx_data). Python runs a signal's
handler at the next bytecode, so a handler that raises raises there, inside pika. The
signals are real and so is everything else; only their moment is chosen. One line,
SIGNALLED, says when they were sent.
"""

from __future__ import annotations

import os
import runpy
import signal
import struct
import sys

from pika.adapters.utils import io_services_utils

METHOD_FRAME = 1
BASIC_ACK = struct.pack(">HH", 60, 80)  # class basic, method ack
NTH_ACK = 3
SIGNALLED = "tests.signal_in_pika: SIGINT sent inside pika"


def is_ack(frame: bytes) -> bool:
    """A method frame (type, channel, size, then class and method ids) carrying Basic.Ack."""
    return frame[0] == METHOD_FRAME and frame[7:11] == BASIC_ACK


def signal_after_nth_ack(count: int) -> None:
    transport = io_services_utils._AsyncTransportBase
    buffer_tx_data = transport._buffer_tx_data
    acks = 0

    def buffer_then_signal(self, data: bytes) -> None:
        nonlocal acks
        buffer_tx_data(self, data)
        if is_ack(data):
            acks += 1
            if acks == NTH_ACK:
                print(SIGNALLED, flush=True)
                for _ in range(count):
                    os.kill(os.getpid(), signal.SIGINT)

    transport._buffer_tx_data = buffer_then_signal


if __name__ == "__main__":
    count, script, *args = sys.argv[1:]
    signal_after_nth_ack(int(count))
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")
