"""What the lab's stand-ins share: a command line naming the setting they go without."""

from __future__ import annotations

import argparse

from utils.arguments import DEFAULT_QUEUE, queue_name


def stand_in_parser(
    prog: str, description: str, without: dict[str, str]
) -> argparse.ArgumentParser:
    """SETTING (what the stand-in goes without, each explained in --help) and --queue."""
    parser = argparse.ArgumentParser(
        prog=f"python -m tools.lab.{prog}",
        description=f"{description} For the lab only: not one of the six scripts.",
        epilog="\n".join(f"{setting}: {what}" for setting, what in without.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("setting", choices=sorted(without), help="the setting it goes without")
    parser.add_argument("--queue", type=queue_name, default=DEFAULT_QUEUE)
    return parser
