from terminal.cli import app

app(prog_name="python -m terminal")
