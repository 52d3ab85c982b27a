from edge.video.cli import app

app()
