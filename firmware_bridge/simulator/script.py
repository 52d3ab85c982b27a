"""A tiny scenario language for the simulator, so tests, the demo and a technician at a
terminal drive it the same way. One step per line or separated by ';'::

    vehicle 97 lane=2           radar reading, km/h (direction=receding optional)
    crossing lane=2             stop-line crossing (loop=trigger for the trigger loop)
    light red|amber|green       traffic-light phase change
    tamper open|closed          enclosure tamper switch
    gps fix 51.1283 71.4305 sats=9
    gps nofix
    heartbeat
    reboot                      power cycle: boot counter + 1
    drop 2                      lose the next 2 data frames on the wire
    garbage 40                  write 40 random non-zero bytes to the wire
    wait 0.5                    pause, seconds
"""

from __future__ import annotations

import secrets
import time

from firmware_bridge.messages import Direction, LightPhase, LoopKind
from firmware_bridge.simulator.device import McuSimulator


class ScriptError(ValueError):
    pass


def steps(script: str) -> list[str]:
    return [s.strip() for line in script.splitlines() for s in line.split(";") if s.strip()]


def run_step(simulator: McuSimulator, step: str) -> None:
    words = step.split()
    verb, args = words[0].lower(), words[1:]
    options = dict(arg.split("=", 1) for arg in args if "=" in arg)
    positional = [arg for arg in args if "=" not in arg]
    try:
        if verb == "vehicle":
            direction = Direction[options.get("direction", "approaching").upper()]
            simulator.vehicle(float(positional[0]), int(options.get("lane", "1")), direction)
        elif verb == "crossing":
            loop = LoopKind.TRIGGER_LOOP if options.get("loop") == "trigger" else LoopKind.STOP_LINE
            simulator.crossing(int(options.get("lane", "1")), loop)
        elif verb == "light":
            simulator.light(LightPhase[positional[0].upper()])
        elif verb == "tamper":
            if positional[0] not in ("open", "closed"):
                raise ScriptError("tamper takes 'open' or 'closed'")
            simulator.tamper(positional[0] == "open")
        elif verb == "gps" and positional[0] == "fix":
            lat, lon = float(positional[1]), float(positional[2])
            simulator.gps_fix(lat, lon, int(options.get("sats", "9")))
        elif verb == "gps" and positional[0] == "nofix":
            simulator.gps_no_fix()
        elif verb == "heartbeat":
            simulator.heartbeat()
        elif verb == "reboot":
            simulator.reboot()
        elif verb == "drop":
            simulator.drop_next_data_frames(int(positional[0]) if positional else 1)
        elif verb == "garbage":
            count = int(positional[0]) if positional else 32
            simulator.send_garbage(bytes(1 + secrets.randbelow(255) for _ in range(count)))
        elif verb == "wait":
            time.sleep(float(positional[0]))
        else:
            raise ScriptError(f"unknown step {step!r}")
    except (IndexError, KeyError, ValueError) as error:
        if isinstance(error, ScriptError):
            raise
        raise ScriptError(f"cannot understand step {step!r}: {error}") from error
