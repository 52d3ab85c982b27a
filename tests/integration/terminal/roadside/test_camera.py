"""Photos from the car's camera through OpenCV, with a video file as the source: each photo is a
JPEG kept under its SHA-256 (the name is the hash of the bytes on disk), successive photos are
successive frames, a source that gives no picture is a sentence; the protocol lists the photos'
hashes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import cv2
import numpy as np
import pytest

from contract.roadside import ProtocolOutcome
from terminal.roadside.camera import CameraUnavailable, CarCamera, photo_path
from terminal.roadside.codes import assess
from terminal.roadside.drafting import Draft, build_protocol, protocol_place
from terminal.roadside.table_file import load_code_table
from tests.integration.terminal.roadside.rig import write_video

DATE = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def test_photos_are_jpegs_kept_under_their_sha256(tmp_path: Path) -> None:
    video = tmp_path / "dashcam.avi"
    write_video(video)
    camera = CarCamera(str(video), tmp_path / "photos")
    first, second = camera.take(), camera.take()
    camera.close()
    assert first.sha256 != second.sha256  # two frames, two photos
    for photo in (first, second):
        data = photo.path.read_bytes()
        assert photo.path == photo_path(tmp_path / "photos", photo.sha256)
        assert hashlib.sha256(data).hexdigest() == photo.sha256 and len(data) == photo.size
        assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"  # SOI ... EOI
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape == (240, 320, 3)
    grey = cv2.imdecode(np.frombuffer(first.path.read_bytes(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert (
        grey is not None and abs(int(grey[200, 300]) - 40) < 8
    )  # the first frame's grey, where the box is not
    assert not list((tmp_path / "photos").glob(".photo-*"))  # no temporary file left

    table = load_code_table()
    draft = Draft(
        plate="123 abc 01",
        article="601",
        part=1,
        outcome=ProtocolOutcome.WARNING,
        place=protocol_place(None, "пр. Туран, 24"),
        description="Движение по полосе для автобусов",
        photo_sha256=(first.sha256, second.sha256),
    )
    protocol = build_protocol(
        draft,
        assess(table, "601", 1, [], DATE),
        protocol_id=uuid4(),
        protocol_number="KZ-GP-R00000007",
        officer_iin="850315300128",
        drawn_up_at=DATE,
    )
    assert protocol.photo_sha256 == [first.sha256, second.sha256] and protocol.plate == "123ABC01"


def test_a_source_without_picture_is_a_sentence(tmp_path: Path) -> None:
    camera = CarCamera(str(tmp_path / "no-such-camera.avi"), tmp_path / "photos")
    with pytest.raises(CameraUnavailable) as refused:
        camera.take()
    assert "gives no picture" in str(refused.value)
    assert not (tmp_path / "photos").exists()
