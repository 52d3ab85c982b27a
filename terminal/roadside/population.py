"""The population register as the terminal reaches it: a person by IIN (HTTP JSON).

The real register is another state system (the State Database "Individuals"), reached through
the agency's gateway; this adapter speaks its JSON face: ``GET /v1/persons/<iin>``, 200 with the
person, 404 when no person has that IIN. In tests the register is a separate process serving
realistic records (tests/support/population_register.py).
"""

from __future__ import annotations

import re
from datetime import date

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from i18n import Text
from terminal.messages import SpokenError

_IIN = re.compile(r"^\d{12}$")


class PopulationUnavailable(SpokenError):
    """The register did not answer usefully; the officer may type the person's data."""


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    birth_date: date
    address: str | None = None
    document: str | None = None  # the identity card's number
    deceased: bool = False

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)


class PopulationRegister:
    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def person(self, iin: str) -> Person | None:
        """The person with this IIN; None when the register has none."""
        iin = iin.strip()
        if not _IIN.fullmatch(iin):
            raise PopulationUnavailable(Text("%(iin)s is not an IIN: it has 12 digits.", iin=iin))
        try:
            response = self._http.get(f"/v1/persons/{iin}")
        except httpx.HTTPError as exc:
            raise PopulationUnavailable(
                Text(
                    "The population register cannot be reached: type the person's data from"
                    " the identity card."
                )
            ) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise PopulationUnavailable(
                Text(
                    "The population register refused the search (%(status)s): type the"
                    " person's data from the identity card.",
                    status=response.status_code,
                )
            )
        try:
            return Person.model_validate_json(response.content)
        except ValidationError as exc:
            raise PopulationUnavailable(
                Text(
                    "The population register answered something the terminal cannot read: type"
                    " the person's data from the identity card."
                )
            ) from exc
