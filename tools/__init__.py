"""Programs a user runs besides the six scripts (the demo, the lab, the queue watcher).

What only they use lives here too. Each runs from the project root as
`python -m tools.<name>`."""

import utils  # noqa: F401  first: the Python version check and the console set-up
