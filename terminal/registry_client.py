"""The registry as the terminal sees it: signed case lookups and signed payment reports.

Requests are signed like every device request (contract.signing.device_request_headers); the
lookup key is in the signed path. The registry computes the amount due; this client only
carries it.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from contract import DeviceKey, ReceiptStatus
from contract.signing import device_request_headers


class CaseForPayment(BaseModel):
    case_number: str
    status: str
    plate: str
    violation: str
    article: str
    part: str
    offence_at: datetime
    full_minor: int
    discounted_minor: int
    discount_percent: int
    discount_deadline: datetime
    amount_due_now_minor: int
    paid_minor: int

    @property
    def legal_basis(self) -> str:
        return f"CoAO RK art. {self.article} part {self.part}"


class _Lookup(BaseModel):
    cases: list[CaseForPayment]


class RegistryUnavailable(Exception):
    """The registry did not answer or refused; the message is for the officer."""


class RegistryClient:
    def __init__(self, http: httpx.Client, device_id: str, key: DeviceKey) -> None:
        self._http = http
        self._device_id = device_id
        self._key = key

    def _get(self, path: str) -> httpx.Response:
        headers = device_request_headers(
            self._key, self._device_id, method="GET", path=path, body=b""
        )
        try:
            return self._http.get(path, headers=headers)
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(
                "The registry cannot be reached: check the mobile connection and try again."
            ) from exc

    def _lookup(self, kind: str, key: str) -> list[CaseForPayment]:
        response = self._get(f"/v1/terminal/cases/by-{kind}/{quote(key.strip(), safe='')}")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            detail = _detail(response)
            raise RegistryUnavailable(f"The registry refused the search: {detail}")
        return _Lookup.model_validate_json(response.content).cases

    def case(self, case_number: str) -> list[CaseForPayment]:
        return self._lookup("number", case_number)

    def cases_by_plate(self, plate: str) -> list[CaseForPayment]:
        return self._lookup("plate", plate)

    def cases_by_iin(self, iin: str) -> list[CaseForPayment]:
        return self._lookup("iin", iin)

    def submit(self, envelope: bytes) -> ReceiptStatus:
        """POST one signed envelope; the registry's status (stored, duplicate, rejected)."""
        try:
            response = self._http.post(
                "/v1/messages", content=envelope, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(
                "The registry cannot be reached: the payment report stays queued."
            ) from exc
        if response.status_code >= 500:
            raise RegistryUnavailable(f"The registry failed ({response.status_code}): retrying.")
        return ReceiptStatus(response.json()["status"])


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]
