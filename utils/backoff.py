"""How long to wait before trying a lost connection again: doubling, capped, jittered."""

from __future__ import annotations

import random

BACKOFF_FIRST = 0.5  # seconds before the first reconnection attempt, doubled after each failure


def backoff(attempt: int, cap: float) -> float:
    """Seconds to wait before reconnection attempt `attempt` (1, 2, ...): doubling from
    BACKOFF_FIRST up to `cap`, less up to half at random, so that clients cut off together
    do not all come back at once."""
    return min(cap, BACKOFF_FIRST * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
