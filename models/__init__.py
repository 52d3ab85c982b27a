"""Plate reading on the camera box: ONNX models, plate-format knowledge and their evaluation.

Public face:
- `PlateReader` (models.pipeline): whole frame -> best `PlateReading` (text, confidence,
  format, box): PP-OCRv4 mobile text detection (models/onnx) + PP-OCRv6 small recognition
  (rapidocr wheel) run with OpenVINO where installed, else onnxruntime (models.runtime).
- `decode` / `PlateText` / `FormatFamily` (models.plate_format): raw recogniser string ->
  plate text against the Kazakh formats (and Brazilian ones), generic fallback otherwise.
- `load_manifest` / `verify` (models.manifest): the shipped model files and their checksums.
- `python -m models.evaluate DIR`: accuracy and speed on a folder of annotated photos.
"""

from models.manifest import ModelChecksumError, load_manifest, verify
from models.plate_format import FormatFamily, PlateText, decode, normalise

__all__ = [
    "FormatFamily",
    "ModelChecksumError",
    "PlateText",
    "decode",
    "load_manifest",
    "normalise",
    "verify",
]
