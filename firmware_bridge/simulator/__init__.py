"""Microcontroller simulator: the firmware's side of the serial protocol, scriptable.

``McuSimulator`` runs over a pty (see ``firmware_bridge.PtyPair``) or a pyserial URL;
``run_step`` / ``steps`` drive it with the scenario language of ``script``. CLI:
``python -m firmware_bridge.simulator --help``.
"""

from firmware_bridge.simulator.device import SIMULATOR_FIRMWARE, McuSimulator
from firmware_bridge.simulator.script import ScriptError, run_step, steps

__all__ = ["SIMULATOR_FIRMWARE", "McuSimulator", "ScriptError", "run_step", "steps"]
