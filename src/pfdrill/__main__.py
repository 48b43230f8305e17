"""``python -m pfdrill`` is the ``pfdrill`` command."""

from pfdrill.cli import entrypoint

entrypoint()
