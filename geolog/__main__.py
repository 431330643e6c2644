"""``python -m geolog`` and the ``geolog`` console script."""

from __future__ import annotations

import sys

from .cli import main


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
