"""The bridge process: the only owner of the microcontroller's serial port.

Traffic readings (radar, stop-line crossings, light phases) go into the sensor journal for the
recorder; tamper, liveness and the validated GPS position go into the box state for the sender;
the illuminator follows what the recorder wants. A serial port that fails ends the process
with status 1 so systemd opens it afresh."""

from __future__ import annotations

import logging
import threading
import time

from contract import now_utc
from edge.box.journal import SensorJournal
from edge.box.readings import reading_from_message
from firmware_bridge import FirmwareBridge, LinkDown, PeerReset, Received, RunnerEvent, Tamper

log = logging.getLogger(__name__)

LIVENESS_WRITE_INTERVAL_S = 1.0
HOUSEKEEPING_INTERVAL_S = 0.5
PRUNE_INTERVAL_S = 60.0


class BridgeService:
    def __init__(self, bridge: FirmwareBridge, journal: SensorJournal) -> None:
        self._bridge = bridge
        self._journal = journal
        self._link_down = threading.Event()
        self._last_liveness_write = 0.0
        self.readings = 0
        bridge.subscribe(self._on_event)

    def _on_event(self, event: RunnerEvent) -> None:
        if isinstance(event, LinkDown):
            log.error("%s", event.reason)
            self._journal.update_state(mcu_link_error=event.reason)
            self._link_down.set()
            return
        if isinstance(event, PeerReset):
            log.warning(
                "the microcontroller restarted (boot counter %d -> %d)",
                event.previous_boot,
                event.boot,
            )
        if not isinstance(event, Received):
            return
        message = event.message
        reading = reading_from_message(message)
        if reading is not None:
            self._journal.append(reading)
            self.readings += 1
        if isinstance(message, Tamper):
            log.error("TAMPER switch %s", "OPEN" if message.open else "closed")
            self._journal.update_state(tamper_open=message.open, mcu_heard_at=time.time())
            return
        if time.monotonic() - self._last_liveness_write >= LIVENESS_WRITE_INTERVAL_S:
            self._last_liveness_write = time.monotonic()
            self._journal.update_state(mcu_heard_at=time.time(), mcu_link_error=None)

    def run(self, stop: threading.Event) -> int:
        """Serve until ``stop`` is set (status 0) or the serial link fails (status 1)."""
        illuminator: bool | None = None
        next_prune = 0.0
        while not stop.wait(HOUSEKEEPING_INTERVAL_S):
            if self._link_down.is_set():
                return 1
            gps = self._bridge.gps_reading()
            if gps.position is not None:
                self._journal.update_state(position=gps.position, position_at=time.time())
            wanted = self._journal.state().illuminator_wanted
            if wanted is not None and wanted != illuminator:
                illuminator = wanted
                self._bridge.set_illuminator(wanted)
                log.info("IR illuminator %s", "on" if wanted else "off")
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_INTERVAL_S
                self._journal.prune(now_utc())
        return 0
