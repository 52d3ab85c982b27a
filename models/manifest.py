"""The model manifest: which ONNX files the product runs, their checksums and measured accuracy.

Model files ship with the project (in the repository or inside a pinned PyPI package); nothing is
ever downloaded at run time. `verify()` recomputes every checksum so a swapped or corrupted
file is refused before it reads a single plate.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    sha256: str
    input_shape: str
    source: str
    licence: str
    history: tuple[dict[str, Any], ...]
    # An OpenVINO IR model keeps its weights beside it (.bin): checked like the model file.
    weights: Path | None = None
    weights_sha256: str | None = None

    def files(self) -> list[tuple[Path, str]]:
        """Each file of the model with the checksum the manifest records for it."""
        pairs = [(self.path, self.sha256)]
        if self.weights is not None and self.weights_sha256 is not None:
            pairs.append((self.weights, self.weights_sha256))
        return pairs


def load_manifest(manifest_path: Path = MANIFEST_PATH) -> dict[str, ModelEntry]:
    document = json.loads(manifest_path.read_text(encoding="utf-8"))
    entries: dict[str, ModelEntry] = {}
    for name, entry in document["models"].items():
        entries[name] = ModelEntry(
            name=name,
            path=_resolve(entry["file"]),
            sha256=entry["sha256"],
            input_shape=entry["input_shape"],
            source=entry["source"],
            licence=entry["licence"],
            history=tuple(entry["history"]),
            weights=(
                None
                if "weights" not in entry["file"]
                else _resolve({**entry["file"], "path": entry["file"]["weights"]})
            ),
            weights_sha256=entry.get("weights_sha256"),
        )
    return entries


def _resolve(file_spec: dict[str, str]) -> Path:
    """A file either inside an installed package (`package` + `path`) or in the repository."""
    package = file_spec.get("package")
    if package is None:
        return REPOSITORY_ROOT / file_spec["path"]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"the Python package {package!r} that ships model file {file_spec['path']} is not "
            f"installed; install the project with its 'edge' extra"
        )
    return Path(spec.origin).parent / file_spec["path"]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelChecksumError(RuntimeError):
    pass


def verify(entries: dict[str, ModelEntry] | None = None) -> None:
    """Raise ModelChecksumError unless every model file exists and matches its checksum."""
    for entry in (entries or load_manifest()).values():
        for path, expected in entry.files():
            if not path.is_file():
                raise ModelChecksumError(f"model {entry.name}: file {path} is missing")
            actual = sha256_of(path)
            if actual != expected:
                raise ModelChecksumError(
                    f"model {entry.name}: file {path} has checksum {actual}, the manifest "
                    f"expects {expected}; the model was replaced or corrupted"
                )
