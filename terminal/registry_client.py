"""The registry as the terminal sees it: signed case lookups and signed payment reports.

Requests are signed like every device request (contract.signing.device_request_headers); the
lookup key is in the signed path. The registry computes the amount due; this client only
carries it. Lookups ask for the officer's language (``Accept-Language``), so that a refusal the
registry explains reads in it.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from contract import DeviceKey, ReceiptStatus
from contract.signing import device_request_headers
from i18n import N_, Language, Text
from terminal.messages import SpokenError

# The registry's case statuses as the officer reads them (the registry's own words for them,
# central_ingest/core/labels.py; the terminal carries its own catalog).
CASE_STATUSES: dict[str, str] = {
    "open": N_("open"),
    "paid": N_("paid"),
    "underpaid": N_("partly paid"),
    "sent_to_bailiffs": N_("sent to bailiffs"),
    "cancelled": N_("cancelled"),
    "expired": N_("enforcement time-barred"),
}


def case_status(code: str) -> Text:
    """A status of the registry as a label; a status this terminal does not know yet is shown
    as the registry's code."""
    return Text(CASE_STATUSES.get(code, code))


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
    def legal_basis(self) -> Text:
        """The article and part of the Code, cited as each language cites them."""
        return Text("CoAO RK art. %(article)s part %(part)s", article=self.article, part=self.part)


class _Lookup(BaseModel):
    cases: list[CaseForPayment]


class RegistryUnavailable(SpokenError):
    """The registry did not answer or refused; the message is for the officer."""


class RegistryClient:
    def __init__(
        self,
        http: httpx.Client,
        device_id: str,
        key: DeviceKey,
        language: Language | None = None,
    ) -> None:
        self._http = http
        self._device_id = device_id
        self._key = key
        self._language = language

    def _get(self, path: str) -> httpx.Response:
        headers = device_request_headers(
            self._key, self._device_id, method="GET", path=path, body=b""
        )
        if self._language is not None:
            headers = {**headers, "Accept-Language": self._language}
        try:
            return self._http.get(path, headers=headers)
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(
                Text("The registry cannot be reached: check the mobile connection and try again.")
            ) from exc

    def _lookup(self, kind: str, key: str) -> list[CaseForPayment]:
        response = self._get(f"/v1/terminal/cases/by-{kind}/{quote(key.strip(), safe='')}")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            detail = _detail(response)
            raise RegistryUnavailable(
                Text("The registry refused the search: %(detail)s", detail=detail)
            )
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
                Text("The registry cannot be reached: the payment report stays queued.")
            ) from exc
        if response.status_code >= 500:
            raise RegistryUnavailable(
                Text("The registry failed (%(status)s): retrying.", status=response.status_code)
            )
        return ReceiptStatus(response.json()["status"])


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]
