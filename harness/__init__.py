"""What the tests and the benchmarks share: the broker under test and a virtual host of one's
own on it (broker), the scripts run as child processes, and waiting (children)."""
