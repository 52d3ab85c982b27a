"""Evidence uploads to the registry: idempotent HTTP PUT keyed by sha256, signed per request."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import httpx

from contract import DeviceKey
from contract.signing import device_request_headers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadRefused:
    """The registry refused a file for good (4xx other than a clock or auth hiccup)."""

    sha256: str
    reason: str
    detail: str


class EvidenceUploader:
    def __init__(
        self,
        registry_url: str,
        device_id: str,
        key: DeviceKey,
        timeout_s: float = 15.0,
        ca_file: Path | None = None,
    ):
        self._device_id = device_id
        self._key = key
        verify: str | bool = str(ca_file) if ca_file is not None else True
        self._http = httpx.Client(
            base_url=registry_url.rstrip("/"), timeout=timeout_s, verify=verify
        )

    def close(self) -> None:
        self._http.close()

    def upload(self, sha256: str, path: Path) -> UploadRefused | None:
        """None once the registry holds the file. Raises ``OSError``/``httpx.HTTPError`` for a
        failure worth retrying (link down, registry busy)."""
        data = path.read_bytes()
        url_path = f"/v1/evidence/{sha256}"
        headers = device_request_headers(
            self._key, self._device_id, method="PUT", path=url_path, body=data
        )
        headers["Content-Type"] = "image/jpeg"
        response = self._http.put(url_path, content=data, headers=headers)
        if response.status_code in (200, 201):
            return None
        if response.status_code in (408, 429) or response.status_code >= 500:
            response.raise_for_status()
        try:
            answer = response.json()
            reason, detail = str(answer.get("error")), str(answer.get("detail"))
        except ValueError:
            reason, detail = f"http_{response.status_code}", response.text[:200]
        if reason == "upload_not_authenticated":
            # A clock off by minutes or a key being re-provisioned: not the file's fault.
            raise httpx.HTTPStatusError(detail, request=response.request, response=response)
        return UploadRefused(sha256, reason, detail)
