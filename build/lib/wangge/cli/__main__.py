"""``python -m wangge.cli``: the same as the ``wangge`` command."""

from wangge.cli.app import app

app()
