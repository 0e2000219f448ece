"""How much work each benchmark does: the issue's sizes, or smaller ones that fit ~20 minutes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """Rows, tasks and repetitions of one benchmark run."""

    emitter_rows: int  # the v3 emitter, the pipelined limit, no confirms
    per_row_connection_rows: int  # the original's approach: a connection per row
    sync_confirm_rows: int  # a synchronous confirm per publish
    worker_tasks: int  # zero-dot tasks for the worker figures
    short_tasks: int  # one-dot tasks (5 ms of work) for the work-thread figures
    memory_rows: int  # the big CSV of the memory figure
    peer_rows: int  # rows sent by the peers' `send` and `delay`, each confirmed in turn
    runs: int  # repetitions of every figure
    fair_runs: int  # repetitions of the makespan (cheap: about 3 s each)


# The sizes (it sets none for the one-dot tasks of 5 ms): about 25 minutes on a
# 2-CPU machine.
FULL = Sizes(
    emitter_rows=100_000,
    per_row_connection_rows=1_000,
    sync_confirm_rows=100_000,
    worker_tasks=20_000,
    short_tasks=5_000,  # the issue sets no size for it
    memory_rows=1_000_000,
    peer_rows=10_000,  # the issue sets no size for it
    runs=3,
    fair_runs=5,
)

# `make bench`: the same figures, some on less work, so that the whole run takes about
# 20 minutes on 2 CPUs (a synchronous confirm costs ~1.3 ms: 100,000 of them take minutes;
# a one-dot task of 5 ms about 6 ms even in the course's loop).
QUICK = Sizes(
    emitter_rows=100_000,
    per_row_connection_rows=1_000,
    sync_confirm_rows=3_000,
    worker_tasks=10_000,
    short_tasks=2_000,
    memory_rows=500_000,
    peer_rows=3_000,  # a confirm waited for a row, like the synchronous confirms
    runs=5,  # paired runs: a ratio's median steadies from five (bench/README.md, Noise)
    fair_runs=5,
)
