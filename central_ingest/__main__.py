from central_ingest.cli import app

app(prog_name="erap-registry")
