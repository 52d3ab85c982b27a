"""What the roadside protocol needs of the registry beyond the payment terminal's client: a new
block of protocol numbers for this terminal (``POST /v1/terminal/protocol-number-blocks``,
device-signed like every terminal request) and the upload of a protocol's photos as evidence
(``PUT /v1/evidence/<sha256>``, as the camera box uploads its JPEGs)."""

from __future__ import annotations

import json

import httpx
from pydantic import ValidationError

from contract import DeviceKey
from contract.roadside import ProtocolNumberBlock
from contract.signing import device_request_headers
from i18n import Text
from terminal.registry_client import RegistryUnavailable

BLOCKS_PATH = "/v1/terminal/protocol-number-blocks"


class RoadsideRegistry:
    def __init__(self, http: httpx.Client, device_id: str, key: DeviceKey) -> None:
        self._http = http
        self._device_id = device_id
        self._key = key

    def fetch_block(self, size: int) -> ProtocolNumberBlock:
        body = json.dumps({"size": size}).encode()
        headers = device_request_headers(
            self._key, self._device_id, method="POST", path=BLOCKS_PATH, body=body
        )
        try:
            response = self._http.post(
                BLOCKS_PATH,
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(
                Text("The registry cannot be reached for new protocol numbers.")
            ) from exc
        if response.status_code not in (200, 201):
            raise RegistryUnavailable(
                Text(
                    "The registry refused new protocol numbers (%(status)s): %(detail)s",
                    status=response.status_code,
                    detail=response.text[:200],
                )
            )
        try:
            block = ProtocolNumberBlock.model_validate_json(response.content)
        except ValidationError as exc:
            raise RegistryUnavailable(
                Text("The registry's block of protocol numbers cannot be read.")
            ) from exc
        if block.device_id != self._device_id:
            raise RegistryUnavailable(
                Text(
                    "The registry issued protocol numbers for terminal %(other)s, not this one:"
                    " they are not used.",
                    other=block.device_id,
                )
            )
        return block

    def upload_photo(self, sha256: str, data: bytes) -> None:
        path = f"/v1/evidence/{sha256}"
        headers = device_request_headers(
            self._key, self._device_id, method="PUT", path=path, body=data
        )
        try:
            response = self._http.put(
                path, content=data, headers={**headers, "Content-Type": "image/jpeg"}
            )
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(
                Text("The registry cannot be reached: the protocol's photos stay queued.")
            ) from exc
        if response.status_code >= 500:
            raise RegistryUnavailable(
                Text("The registry failed (%(status)s): retrying.", status=response.status_code)
            )
        if response.status_code >= 400:
            raise RegistryUnavailable(
                Text(
                    "The registry refused photo %(sha)s (%(status)s): %(detail)s",
                    sha=sha256[:12],
                    status=response.status_code,
                    detail=response.text[:200],
                )
            )
