"""The box's own alarms (edge.box.health), pure."""

from __future__ import annotations

from edge.box.config import HealthSettings
from edge.box.health import box_health
from edge.box.readings import BoxState

SETTINGS = HealthSettings(sensor_silence_s=30, camera_silence_s=15)
NOW = 1_000_000.0


def test_a_healthy_box_raises_no_alarm() -> None:
    health = box_health(BoxState(mcu_heard_at=NOW - 1, camera_frame_at=NOW - 1), NOW, SETTINGS)
    assert (health.tamper, health.sensors_ok, health.camera_ok, health.alerts) == (
        False,
        True,
        True,
        (),
    )


def test_tamper_sensor_silence_and_camera_loss_are_each_an_alarm() -> None:
    state = BoxState(tamper_open=True, mcu_heard_at=NOW - 31, camera_frame_at=NOW - 16)
    health = box_health(state, NOW, SETTINGS)
    assert health.tamper and health.sensors_ok is False and health.camera_ok is False
    text = " | ".join(health.alerts)
    assert "TAMPER" in text and "sensors silent" in text and "camera lost" in text


def test_a_failed_serial_link_or_camera_is_named() -> None:
    state = BoxState(
        mcu_heard_at=NOW,
        mcu_link_error="serial port /dev/ttyAMA0 failed",
        camera_error="RTSP refused",
    )
    health = box_health(state, NOW, SETTINGS)
    assert health.sensors_ok is False and health.camera_ok is False
    assert any("/dev/ttyAMA0" in alert for alert in health.alerts)
    assert any("RTSP refused" in alert for alert in health.alerts)


def test_a_microcontroller_never_heard_is_unknown_and_said_so() -> None:
    health = box_health(BoxState(), NOW, SETTINGS)
    assert health.sensors_ok is None and health.camera_ok is None
    assert any("has not spoken" in alert for alert in health.alerts)
