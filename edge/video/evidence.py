"""Evidence images for a vehicle event: the best full frame and the plate crop, as JPEG."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from contract.wire import EvidenceRef, EvidenceRole
from edge.video.geometry import BBox

Frame = npt.NDArray[np.uint8]

DEFAULT_JPEG_QUALITY = 90
PLATE_CROP_MARGIN = 0.15  # of the plate's size on every side, so the crop shows its edges


class EvidenceEncodingError(RuntimeError):
    pass


@dataclass(frozen=True)
class EncodedImage:
    role: EvidenceRole
    data: bytes
    sha256: str
    width: int
    height: int

    @property
    def ref(self) -> EvidenceRef:
        return EvidenceRef(
            role=self.role,
            sha256=self.sha256,
            size_bytes=len(self.data),
            width=self.width,
            height=self.height,
        )


@dataclass(frozen=True)
class Evidence:
    full_frame: EncodedImage
    plate_crop: EncodedImage

    @property
    def refs(self) -> list[EvidenceRef]:
        return [self.full_frame.ref, self.plate_crop.ref]


def encode_jpeg(
    image: Frame, role: EvidenceRole, quality: int = DEFAULT_JPEG_QUALITY
) -> EncodedImage:
    if image.size == 0:
        raise EvidenceEncodingError(f"cannot encode an empty image as {role.value} evidence")
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise EvidenceEncodingError(f"OpenCV could not encode the {role.value} image as JPEG")
    data = buffer.tobytes()
    height, width = image.shape[:2]
    return EncodedImage(role, data, hashlib.sha256(data).hexdigest(), width, height)


def plate_crop(frame: Frame, box: BBox, margin: float = PLATE_CROP_MARGIN) -> Frame:
    """The plate with a small margin, clipped to the frame."""
    height, width = frame.shape[:2]
    region = box.grown(margin).clipped(width, height)
    return frame[region.y : region.y2, region.x : region.x2]


def build_evidence(frame: Frame, box: BBox, quality: int = DEFAULT_JPEG_QUALITY) -> Evidence:
    return Evidence(
        full_frame=encode_jpeg(frame, EvidenceRole.FULL_FRAME, quality),
        plate_crop=encode_jpeg(plate_crop(frame, box), EvidenceRole.PLATE_CROP, quality),
    )


def sharpness(image: Frame) -> float:
    """Variance of the Laplacian: a blurred (moving, defocused) plate scores low."""
    if image.size == 0:
        return 0.0
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())
