"""The camera box as deployed: three processes sharing one configuration file.

- ``bridge`` owns the microcontroller's serial port and writes sensor readings and box state
  into the sensor journal (``journal.SensorJournal``, SQLite WAL).
- ``recorder`` runs the video pipeline, joins each vehicle with the readings
  (``join.ViolationJoiner``, pure) and records signed fixations in the durable outbox.
- ``sender`` drains the outbox to the registry and publishes the box's health
  (``health.box_health``, pure: tamper, sensor silence, camera loss).

``erap-box --help`` lists the commands; ``deploy/box.example.toml`` documents every option.
"""

from edge.box.config import BoxConfig, load_box_config
from edge.box.health import box_health
from edge.box.join import Settled, Sighting, Violation, ViolationJoiner
from edge.box.journal import SensorJournal
from edge.box.readings import BoxState, PhaseChange, RadarReading, StopLineCrossing

__all__ = [
    "BoxConfig",
    "BoxState",
    "PhaseChange",
    "RadarReading",
    "SensorJournal",
    "Settled",
    "Sighting",
    "StopLineCrossing",
    "Violation",
    "ViolationJoiner",
    "box_health",
    "load_box_config",
]
