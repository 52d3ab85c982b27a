"""Evidence JPEGs: decodable, hashed, and described by contract.EvidenceRef."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from contract.wire import EvidenceRole
from edge.video.evidence import EvidenceEncodingError, build_evidence, encode_jpeg, sharpness
from edge.video.geometry import BBox


def scene() -> np.ndarray:
    image = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(image, (200, 200), (420, 248), (255, 255, 255), -1)
    cv2.putText(image, "123ABC01", (208, 237), cv2.FONT_HERSHEY_SIMPLEX, 1.15, (0, 0, 0), 3)
    return image


def test_full_frame_and_plate_crop_round_trip_with_their_sha256() -> None:
    frame = scene()
    evidence = build_evidence(frame, BBox(200, 200, 220, 48))
    full, crop = evidence.full_frame, evidence.plate_crop
    assert (full.role, crop.role) == (EvidenceRole.FULL_FRAME, EvidenceRole.PLATE_CROP)
    for image in (full, crop):
        assert image.data[:3] == b"\xff\xd8\xff"
        assert image.sha256 == hashlib.sha256(image.data).hexdigest()
        decoded = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None
        assert decoded.shape[:2] == (image.height, image.width)
    assert (full.width, full.height) == (640, 360)
    # 15 % margin on each side of the 220 x 48 plate.
    assert (crop.width, crop.height) == (220 + 2 * 33, 48 + 2 * 7)
    decoded_crop = cv2.imdecode(np.frombuffer(crop.data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded_crop is not None
    expected = frame[193:255, 167:453].astype(int)
    assert np.abs(decoded_crop.astype(int) - expected).mean() < 4  # JPEG noise only


def test_evidence_refs_are_contract_models() -> None:
    evidence = build_evidence(scene(), BBox(200, 200, 220, 48))
    full_ref, crop_ref = evidence.refs
    assert full_ref.role is EvidenceRole.FULL_FRAME
    assert full_ref.sha256 == evidence.full_frame.sha256
    assert full_ref.size_bytes == len(evidence.full_frame.data)
    assert full_ref.content_type == "image/jpeg"
    assert (crop_ref.width, crop_ref.height) == (
        evidence.plate_crop.width,
        evidence.plate_crop.height,
    )


def test_a_plate_at_the_frame_edge_is_cropped_inside_the_frame() -> None:
    evidence = build_evidence(scene(), BBox(600, 340, 100, 40))
    assert (evidence.plate_crop.width, evidence.plate_crop.height) == (40 + 15, 20 + 6)


def test_an_empty_image_is_refused_with_a_sentence() -> None:
    with pytest.raises(EvidenceEncodingError, match="empty image"):
        encode_jpeg(np.zeros((0, 0, 3), np.uint8), EvidenceRole.PLATE_CROP)


def test_sharpness_prefers_a_crisp_plate_over_a_blurred_one() -> None:
    crisp = scene()[200:248, 200:420]
    blurred = np.asarray(cv2.GaussianBlur(crisp, (9, 9), 3), dtype=np.uint8)
    assert sharpness(crisp) > 3 * sharpness(blurred)
