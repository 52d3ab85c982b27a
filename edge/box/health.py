"""The box's own alarms from its state: tamper, a silent microcontroller, a lost camera.

Pure: the sender adds disk level, queue depth and its own alerts (``edge.store.Sender.health``)
and publishes the result as the box's retained status."""

from __future__ import annotations

from edge.box.config import HealthSettings
from edge.box.readings import BoxState
from edge.store import Health


def box_health(state: BoxState, now: float, settings: HealthSettings) -> Health:
    alerts: list[str] = []
    if state.tamper_open:
        alerts.append("TAMPER: the enclosure is open")
    sensors_ok = _fresh(state.mcu_heard_at, now, settings.sensor_silence_s)
    if state.mcu_link_error is not None:
        sensors_ok = False
        alerts.append(f"sensors: {state.mcu_link_error}")
    elif sensors_ok is False:
        alerts.append(
            f"sensors silent: no message from the microcontroller for over "
            f"{settings.sensor_silence_s:.0f} s (radar, loops and GPS are blind)"
        )
    elif sensors_ok is None:
        alerts.append("sensors: the microcontroller has not spoken since the box started")
    camera_ok = _fresh(state.camera_frame_at, now, settings.camera_silence_s)
    if state.camera_error is not None:
        camera_ok = False
        alerts.append(f"camera: {state.camera_error}")
    elif camera_ok is False:
        alerts.append(f"camera lost: no frame for over {settings.camera_silence_s:.0f} s")
    return Health(
        tamper=state.tamper_open, camera_ok=camera_ok, sensors_ok=sensors_ok, alerts=tuple(alerts)
    )


def _fresh(at: float | None, now: float, limit_s: float) -> bool | None:
    return None if at is None else now - at <= limit_s
