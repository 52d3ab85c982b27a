"""The roadside protocol on the terminal: the officer draws up, signs, prints and takes payment
for an administrative-offence protocol with or without the network.

The face other parts call (the touch UI) is ``RoadsideDesk`` and the types it takes and
returns; the modules below it:

- ``codes`` (pure): the code table (``code_table.toml``) and the repeat-offence rule;
- ``drafting`` (pure): the protocol from what the officer entered, the place, number policy;
- ``store``: number blocks, the journal of signed protocols, the queue to the registry (SQLite);
- ``population``, ``registry_link``: the population register and the registry's number blocks;
- ``gps``, ``camera``, ``printer`` (with ``paper_copy``'s layout): the car's devices;
- ``desk`` (with ``payments``): the service over them; ``terminal.roadside.wiring`` builds it
  from the terminal's configuration (imported by name: the configuration imports this
  package's settings, so the package cannot import the wiring back).
"""

from terminal.roadside.camera import CameraUnavailable, Photo
from terminal.roadside.codes import Assessment, CodeEntry, CodeTable, EarlierOffence
from terminal.roadside.desk import (
    Background,
    NoNumbers,
    Placed,
    ProtocolEntry,
    Recorded,
    RoadsideDesk,
    SyncReport,
)
from terminal.roadside.drafting import Draft, DraftRefused, GpsFix, NumberPolicy
from terminal.roadside.population import Person, PopulationUnavailable

__all__ = [
    "Assessment",
    "Background",
    "CameraUnavailable",
    "CodeEntry",
    "CodeTable",
    "Draft",
    "DraftRefused",
    "EarlierOffence",
    "GpsFix",
    "NoNumbers",
    "NumberPolicy",
    "Person",
    "Photo",
    "Placed",
    "PopulationUnavailable",
    "ProtocolEntry",
    "Recorded",
    "RoadsideDesk",
    "SyncReport",
]
