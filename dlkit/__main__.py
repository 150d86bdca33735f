"""``python -m dlkit``: the same as the ``dlkit`` command."""

from dlkit._cli import run

run()
