"""``python -m edge.box``: the same commands as ``erap-box``."""

from edge.box.cli import app

app(prog_name="erap-box")
