"""Programs a user runs besides the six scripts (the demo, the queue watcher), and what only
they use. Each runs from the project root as `python -m tools.<name>`."""
