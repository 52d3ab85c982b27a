"""The serial link to the camera box's microcontroller (radar, loops, lights, IR, tamper, GPS).

Layers, each usable alone:

- ``frame``: COBS framing with a 0x00 before and after each frame, header (sequence number,
  message type, boot counter, length) and CRC-16; ``FrameDecoder`` never raises on garbage.
- ``messages``: typed, versioned little-endian payloads (table in that module's docstring).
- ``link``: ``LinkEndpoint``, a pure state machine for ACK/NAK, retransmission with bounded
  retries, duplicate suppression and reset detection by boot counter, with counters.
- ``gps``: ``GpsTracker`` parses NMEA (pynmea2) and offers a position only when RMC is valid
  and GGA has a fix and enough satellites.
- ``bridge``: ``FirmwareBridge``, the host side over a pyserial port (thread, queue, handlers).
- ``simulator``: ``McuSimulator``, the firmware's side, scriptable; ``transport.PtyPair`` makes
  a socat pty pair to run both over a real serial line.

CLIs: ``erap-bridge monitor --port /dev/ttyUSB0`` (``firmware_bridge.cli``) and
``python -m firmware_bridge.simulator --help``.
"""

from firmware_bridge.bridge import FirmwareBridge
from firmware_bridge.frame import Frame, FrameDecoder, encode_frame
from firmware_bridge.gps import GpsReading, GpsTracker
from firmware_bridge.link import (
    LinkCounters,
    LinkEndpoint,
    LinkEvent,
    PeerReset,
    Received,
    SendFailed,
    Undecodable,
)
from firmware_bridge.messages import (
    Direction,
    GpsSentence,
    Heartbeat,
    Hello,
    IlluminatorCommand,
    LightPhase,
    LightPhaseChange,
    LoopCrossing,
    LoopKind,
    Message,
    MessageType,
    PayloadError,
    RadarSpeed,
    Tamper,
    decode_message,
)
from firmware_bridge.runner import LinkDown, RunnerEvent
from firmware_bridge.transport import BridgeError, PtyPair, open_port

__all__ = [
    "BridgeError",
    "Direction",
    "FirmwareBridge",
    "Frame",
    "FrameDecoder",
    "GpsReading",
    "GpsSentence",
    "GpsTracker",
    "Heartbeat",
    "Hello",
    "IlluminatorCommand",
    "LightPhase",
    "LightPhaseChange",
    "LinkCounters",
    "LinkDown",
    "LinkEndpoint",
    "LinkEvent",
    "LoopCrossing",
    "LoopKind",
    "Message",
    "MessageType",
    "PayloadError",
    "PeerReset",
    "PtyPair",
    "RadarSpeed",
    "Received",
    "RunnerEvent",
    "SendFailed",
    "Tamper",
    "Undecodable",
    "decode_message",
    "encode_frame",
    "open_port",
]
