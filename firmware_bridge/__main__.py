from firmware_bridge.cli import app

app(prog_name="python -m firmware_bridge")
