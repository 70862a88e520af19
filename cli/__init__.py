"""The ``wangge`` command line (typer), one module per command group; ``app`` assembles them."""
