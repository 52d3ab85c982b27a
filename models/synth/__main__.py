from models.synth.cli import app

app()
