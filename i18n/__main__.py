from i18n.cli import app

app(prog_name="python -m i18n")
