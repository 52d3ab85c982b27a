"""The ``[roadside]`` section of the terminal's configuration: where the population register
answers, the car's GPS port and camera, the code table, and when to ask for protocol numbers.
A terminal without the section takes payments only."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class RoadsideSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    population_register_url: str = Field(
        description="the population register's gateway (HTTP JSON: GET /v1/persons/<iin>)"
    )
    population_timeout_s: float = Field(default=5.0, gt=0)
    gps_port: str = Field(description="the GPS receiver's serial device or pyserial URL (NMEA)")
    gps_baudrate: int = 9600
    gps_max_age_s: float = Field(
        default=3.0, gt=0, description="older sentences are no fix: the place is typed"
    )
    camera: str | None = Field(
        default=None,
        description='what OpenCV opens: a device index ("0"), an RTSP URL or a file; none:'
        " no photos",
    )
    printer_paper_sensor: bool = Field(
        default=False,
        description="the printer answers DLE EOT 4: ask it for paper before each copy",
    )
    code_table: Path | None = Field(
        default=None, description="default: the table shipped with the terminal"
    )
    numbers_low_water: int = Field(
        default=20, ge=1, description="ask the registry for numbers below this many left"
    )
    numbers_block_size: int = Field(default=100, ge=1, le=1000)
