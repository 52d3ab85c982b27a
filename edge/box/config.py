"""The camera box's one configuration file (TOML), shared by its three processes.

Every option is documented in its ``description`` and in ``deploy/box.example.toml``; a bad
file is refused with the key and the problem named (``contract.config_file``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contract import ClockSource
from contract.config_file import load_toml
from contract.wire import DeviceId
from edge.violations import CameraRules
from models.plate_format import KAZAKH_ROADS, FormatFamily
from models.runtime import Precision, Runtime

if TYPE_CHECKING:
    from models.pipeline import PlateReader


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegistrySettings(_Section):
    url: str = Field(description="Registry base URL for evidence uploads, e.g. https://erap.kz")
    ca_file: Path | None = Field(
        default=None, description="CA bundle that signed the registry's HTTPS certificate"
    )


class MqttSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Broker host name")
    port: int = Field(default=8883, gt=0, lt=65536, description="Broker port (8883: TLS)")
    ca_file: Path | None = Field(
        default=None, description="CA that signed the broker certificate; None: plain TCP"
    )
    cert_file: Path | None = Field(
        default=None, description="This box's client certificate (its CN is the device id)"
    )
    key_file: Path | None = Field(default=None, description="Private key of the certificate")

    @model_validator(mode="after")
    def _tls_complete(self) -> Self:
        given = [self.cert_file is not None, self.key_file is not None]
        if any(given) and not all(given):
            raise ValueError("cert_file and key_file go together")
        if any(given) and self.ca_file is None:
            raise ValueError("a client certificate needs ca_file to check the broker with")
        return self


class VideoSettings(_Section):
    source: str = Field(description="Video file path, USB camera index (0) or RTSP URL")
    realtime: bool = Field(
        default=False,
        description="Play a file at its own frame rate, dropping frames the box cannot keep up "
        "with, as a live camera would deliver them (demo and bench); live sources always are",
    )
    sample_every: int = Field(default=1, ge=1, le=25, description="Read every Nth frame")
    detector_side: int = Field(
        default=960, ge=320, le=1920, description="Text detector input size, pixels"
    )
    # The ladder 640, 960, 1280, 1920 read the most plates for its time (models/manifest.json,
    # issue 17: us exact 0.833 against 0.788 at 960 alone, the same median): most plates are
    # read at 640, small ones higher up.
    coarse_side: int | None = Field(
        default=640,
        ge=160,
        le=1920,
        description="Search each region first at this smaller detector size (None: no coarse "
        "rung); the larger sizes run only when no confident plate was read",
    )
    fine_sides: list[int] = Field(
        default_factory=lambda: [1280, 1920],
        description="Larger detector sizes tried after detector_side, in turn, while no "
        "confident plate was read: small, distant plates",
    )
    threads: int = Field(default=2, ge=1, le=8, description="CPU threads for the models")
    runtime: Runtime = Field(
        default=Runtime.AUTO,
        description="Inference runtime for the models: openvino, onnxruntime, or auto "
        "(OpenVINO when installed)",
    )
    precision: Precision = Field(
        default=Precision.AUTO,
        description="What the models compute in: f32, int8 (the quantised text detector), or "
        "auto (int8 where the CPU has dot-product instructions, else f32); never bfloat16",
    )
    formats: list[FormatFamily] = Field(
        default_factory=lambda: list(KAZAKH_ROADS),
        description="Plate format families expected here (kz, ru, kg, uz, br, us): their "
        "look-alike characters are corrected by position; other plates are read as they are "
        "([]: no correction at all)",
    )
    lane_edges: list[float] = Field(
        default_factory=list,
        description="Lane boundaries as fractions of the frame width, left to right: [0.5] "
        "makes the left half lane 1 and the right half lane 2; [] means one lane",
    )
    max_missed: int = Field(
        default=5, ge=0, description="Reads without a plate before a track ends"
    )
    repeat_window_s: float = Field(
        default=60.0, ge=0, description="A plate is reported once per this many seconds"
    )
    max_plates_per_frame: int = Field(
        default=4,
        ge=1,
        le=16,
        description="Most plates read in one vehicle region of a frame (python -m "
        "models.evaluate --config reads as many)",
    )

    @model_validator(mode="after")
    def _ladder_rises(self) -> Self:
        # Checked as written; the defaults' rungs at or below a smaller or larger
        # detector_side are simply not searched (models.pipeline.PlateReader).
        given = self.model_fields_set
        coarse = self.coarse_side
        if "coarse_side" in given and coarse is not None and coarse >= self.detector_side:
            raise ValueError("coarse_side must be smaller than detector_side")
        sides = [self.detector_side, *self.fine_sides]
        if "fine_sides" in given and (
            sides != sorted(set(sides)) or any(side > 3840 for side in self.fine_sides)
        ):
            raise ValueError("fine_sides must rise above detector_side, each at most 3840 pixels")
        return self

    @model_validator(mode="after")
    def _formats_once_each(self) -> Self:
        if len(set(self.formats)) != len(self.formats):
            raise ValueError("formats names a format family twice")
        return self

    @model_validator(mode="after")
    def _edges_ordered(self) -> Self:
        edges = self.lane_edges
        if any(not 0.0 < edge < 1.0 for edge in edges) or edges != sorted(set(edges)):
            raise ValueError("lane_edges must rise strictly between 0 and 1")
        return self

    def plate_reader(self) -> PlateReader:
        """The plate reader these settings describe: what the box runs, and what
        ``python -m models.evaluate --config`` measures (one path, one set of defaults)."""
        # Imported here: loading the models takes a moment, and reading a configuration
        # (check-config, the sender, the bridge) must not pay for it.
        from models.pipeline import PlateReader

        return PlateReader(
            expected=self.formats,
            detector_side=self.detector_side,
            threads=self.threads,
            coarse_side=self.coarse_side,
            fine_sides=self.fine_sides,
            runtime=self.runtime,
            precision=self.precision,
        )

    def lane_at(self, x_fraction: float) -> int:
        """Lane number (1 = leftmost) of a point at ``x_fraction`` of the frame width."""
        return 1 + sum(1 for edge in self.lane_edges if x_fraction >= edge)


class SerialSettings(_Section):
    port: str = Field(description="Serial device of the microcontroller, or a pyserial URL")
    baudrate: int = Field(default=115200, gt=0)


class RadarDirection(StrEnum):
    APPROACHING = "approaching"
    RECEDING = "receding"
    BOTH = "both"


class JoinSettings(_Section):
    window_s: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description="A sensor reading and a plate read belong together when their times differ "
        "by at most this much",
    )
    reading_delay_s: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description="How late a sensor reading may reach the recorder after it was measured; "
        "a vehicle is judged only once this has passed after its join window",
    )
    sighting_delay_s: float = Field(
        default=15.0,
        ge=0,
        le=120,
        description="How late the video pipeline may report a vehicle after its best frame "
        "(its track must end first); readings are kept this long for it",
    )
    radar_direction: RadarDirection = Field(
        default=RadarDirection.APPROACHING,
        description="Radar readings of traffic in the other direction are ignored (counted)",
    )


class HealthSettings(_Section):
    sensor_silence_s: float = Field(
        default=30.0, gt=0, description="No message from the microcontroller this long: alarm"
    )
    camera_silence_s: float = Field(
        default=15.0, gt=0, description="No frame from the camera this long: alarm"
    )
    gps_max_age_s: float = Field(
        default=120.0, gt=0, description="A position older than this is not put in fixations"
    )


class SenderOptions(_Section):
    receipt_timeout_s: float = Field(default=30.0, gt=0, description="Resend after this silence")
    status_interval_s: float = Field(default=60.0, gt=0, description="Seconds between statuses")
    reconnect_cap_s: float = Field(default=30.0, gt=0, description="Longest reconnect backoff")
    max_inflight: int = Field(
        default=100,
        ge=1,
        le=65535,
        description="Publishes awaiting the broker's PUBACK at once (paho's in-flight window); "
        "more drains a backlog faster over a slow link, at the broker's memory",
    )


class StorageSettings(_Section):
    max_bytes: int | None = Field(
        default=None, gt=0, description="Cap on evidence and clip files; None: the disk decides"
    )
    min_free_bytes: int = Field(
        default=256 * 1024 * 1024, ge=0, description="Left free for the database and the OS"
    )


class BoxConfig(_Section):
    device_id: DeviceId = Field(description="The box's id as provisioned (its certificate CN)")
    key_file: Path = Field(description="The box's Ed25519 private key (PEM), mode 0600")
    data_dir: Path = Field(description="Outbox, evidence files and the sensor journal")
    registry: RegistrySettings
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    video: VideoSettings
    serial: SerialSettings
    rules: CameraRules
    clock_source: ClockSource = Field(
        default=ClockSource.NTP,
        description="What keeps the box's clock right (gps, ntp or rtc); goes into fixations",
    )
    join: JoinSettings = Field(default_factory=JoinSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    sender: SenderOptions = Field(default_factory=SenderOptions)
    storage: StorageSettings = Field(default_factory=StorageSettings)

    @model_validator(mode="before")
    @classmethod
    def _rules_name_this_camera(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("rules"), dict):
            data["rules"] = {"camera_id": data.get("device_id"), **data["rules"]}
        return data

    @model_validator(mode="after")
    def _one_camera(self) -> Self:
        if self.rules.camera_id != self.device_id:
            raise ValueError(f"rules.camera_id must be the box's device_id {self.device_id!r}")
        return self

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "sensors.sqlite3"


def load_box_config(path: Path) -> BoxConfig:
    """Raises ``contract.config_file.ConfigError`` naming each bad key."""
    return load_toml(BoxConfig, path)
