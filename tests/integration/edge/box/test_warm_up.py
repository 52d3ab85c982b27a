"""The box plans its plate reader for its camera before going live: the first frame's size and
every region size the motion gate can hand over, and then reads only images of those sizes."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

from contract import DeviceKey
from edge.box.config import BoxConfig
from edge.box.journal import SensorJournal
from edge.box.recorder import Recorder
from edge.box.wiring import build_pipeline, open_outbox
from edge.store.db import Durability
from edge.video import VideoFileSource
from edge.video.recogniser import PlateReading, PlateRecogniser
from tests.integration.edge.video.test_pipeline import HEIGHT, WIDTH, write_footage
from tests.support.paths import DEPLOY


class Watched:
    """The box's own plate reader, with the calls made to it written down in order."""

    def __init__(self, reader: PlateRecogniser) -> None:
        self.reader = reader
        self.calls: list[tuple[str, list[tuple[int, int]]]] = []

    def read_plates(self, image: object, limit: int = 1) -> Sequence[PlateReading]:
        shape = image.shape  # type: ignore[attr-defined]
        self.calls.append(("read", [(shape[1], shape[0])]))
        return self.reader.read_plates(image, limit)  # type: ignore[arg-type]

    def warm_up(self, *image_shapes: tuple[int, ...]) -> None:
        self.calls.append(("warm_up", [(shape[1], shape[0]) for shape in image_shapes]))
        self.reader.warm_up(*image_shapes)


def test_the_recorder_warms_the_reader_for_the_frame_and_motion_regions_first(
    tmp_path: Path,
) -> None:
    footage = write_footage(
        tmp_path / "street.avi", [(None, 4), ("123ABC01", 16), (None, 4)], misread={}
    )
    raw = tomllib.loads((DEPLOY / "box.example.toml").read_text(encoding="utf-8"))
    raw["data_dir"] = str(tmp_path / "box")
    raw["video"] |= {"source": str(footage), "detector_side": 640, "coarse_side": None}
    config = BoxConfig.model_validate(raw)
    (tmp_path / "box").mkdir()
    pipeline = build_pipeline(config)
    watched = Watched(pipeline._recogniser)
    pipeline._recogniser = watched
    journal = SensorJournal(config.journal_path)
    outbox = open_outbox(config, Durability.NORMAL)
    recorder = Recorder(
        config, DeviceKey.generate(), outbox, journal, pipeline, VideoFileSource(footage)
    )
    try:
        counters = recorder.run()
    finally:
        outbox.close()
        journal.close()

    assert counters.frames == 24
    (first, warmed), *reads = watched.calls
    assert first == "warm_up"
    # 640x360 frames, regions in steps of 256 px: 256, 512 and the frame's own 640 wide,
    # 256 and the frame's 360 high.
    assert sorted(warmed) == [
        (width, height) for width in (256, 512, WIDTH) for height in (256, HEIGHT)
    ]
    assert reads and all(kind == "read" for kind, _ in reads)
    assert {size for _, (size,) in reads} <= set(warmed)
