"""Benchmarks of the v3 emitter and worker against pika baselines, on the local broker.

`make bench` (python -m bench.run_all) runs them all in a vhost of their own and writes
the table to bench/results.md; `python -m bench.fault_soak` is the kill-and-restart soak.
"""
