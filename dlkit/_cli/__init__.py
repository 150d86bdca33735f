"""Stage 7: the ``dlkit`` command, a thin layer over the public API."""

from dlkit._cli.app import main, run

__all__ = ["main", "run"]
