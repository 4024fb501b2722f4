"""Attacks on real server processes, each with its figure (docs/reliability.md, "Attacks").

The default run is scaled to stay within the suite's time; PARLEY_ATTACKS_FULL=1 runs the
issue's full sizes. Run with `-s` to print each case's figures.
"""

from __future__ import annotations

import os

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FULL = os.environ.get("PARLEY_ATTACKS_FULL", "").lower() in ("1", "true", "yes")


def size(default: int, full: int) -> int:
    """The scaled size of an attack, or the full one under PARLEY_ATTACKS_FULL=1."""
    return full if FULL else default


def report(case: str, **figures: object) -> None:
    """Print a case's figures (seen with `pytest -s`): docs/reliability.md quotes them."""
    print(f"\n[{case}]")
    for name, value in figures.items():
        print(f"  {name.replace('_', ' ')}: {value}")
