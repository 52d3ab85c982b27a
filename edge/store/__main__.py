from edge.store.cli import app

app()
