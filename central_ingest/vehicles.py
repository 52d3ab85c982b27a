"""The vehicle register adapter: plate -> registered owner and vehicle description.

A camera knows a plate, not a person; the case is opened against the vehicle's registered owner.
The real register is another state system behind ``VehicleRegister``; the embedded default is
the local ``vehicles`` table, seeded from a JSON-lines file for the demo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from central_ingest.core.cases import normalise_plate
from central_ingest.core.errors import InvalidInput
from central_ingest.core.iin import is_valid_bin, is_valid_iin
from central_ingest.store import vehicles as repo
from central_ingest.store.db import Store
from i18n import Language

OwnerKind = Literal["person", "organisation"]

DEMO_SEED = Path(__file__).parent / "seed" / "vehicles.jsonl"
"""About thirty invented vehicles and owners for the demo and the tests."""

_PHONE_SEPARATORS = re.compile(r"[\s()\-.]")
_KZ_PHONE = re.compile(r"^\+7\d{10}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def normalise_phone(text: str) -> str:
    """A Kazakhstan number in E.164 (``+7`` and ten digits); accepts the domestic ``8`` prefix."""
    compact = _PHONE_SEPARATORS.sub("", text)
    if re.fullmatch(r"[78]\d{10}", compact):
        compact = "+7" + compact[1:]
    if not _KZ_PHONE.fullmatch(compact):
        raise ValueError(f"{text!r} is not a Kazakhstan phone number (+7 and ten digits)")
    return compact


@dataclass(frozen=True, slots=True)
class VehicleRecord:
    plate: str
    owner_id: str
    owner_kind: OwnerKind
    owner_name: str
    phone: str | None = None
    email: str | None = None
    make: str | None = None
    model: str | None = None
    colour: str | None = None
    # The owner's language for notices, as the register records it; None: unknown, and
    # notices go out in Kazakh and Russian.
    language: Language | None = None


class VehicleRegister(Protocol):
    def lookup(self, plate: str) -> VehicleRecord | None:
        """The registered vehicle for a plate in any spelling, or None if it is not registered."""
        ...


class VehicleDataError(ValueError):
    """Vehicle data that cannot be registered, with every problem named."""

    code = "invalid_vehicle_data"


class _ValidatedVehicle(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    plate: str = Field(min_length=2, max_length=12)
    owner_id: str = Field(pattern=r"^\d{12}$", description="IIN of a person or BIN of a company")
    owner_kind: OwnerKind
    owner_name: str = Field(min_length=1, max_length=200)
    phone: str | None = None
    email: str | None = Field(default=None, max_length=254)
    make: str | None = Field(default=None, max_length=60)
    model: str | None = Field(default=None, max_length=60)
    colour: str | None = Field(default=None, max_length=40)
    language: Language | None = None

    @field_validator("plate", mode="before")
    @classmethod
    def _plate(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return normalise_plate(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None  # pydantic reports it with the field

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not _EMAIL.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @model_validator(mode="after")
    def _owner_id_matches_kind(self) -> _ValidatedVehicle:
        if self.owner_kind == "person" and not is_valid_iin(self.owner_id):
            raise ValueError(f"owner_id {self.owner_id} is not a valid IIN (check digit)")
        if self.owner_kind == "organisation" and not is_valid_bin(self.owner_id):
            raise ValueError(f"owner_id {self.owner_id} is not a valid BIN")
        return self

    def record(self) -> VehicleRecord:
        return VehicleRecord(**self.model_dump())


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}" for err in exc.errors()
    )


def validate_vehicle(data: dict[str, object]) -> VehicleRecord:
    """Normalise and check one vehicle; raises VehicleDataError naming each bad field."""
    try:
        return _ValidatedVehicle.model_validate(data).record()
    except ValidationError as exc:
        raise VehicleDataError(_problems(exc)) from None


class SqliteVehicleRegister(VehicleRegister):
    """The embedded register: the ``vehicles`` table of the registry database."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def lookup(self, plate: str) -> VehicleRecord | None:
        try:
            normalised = normalise_plate(plate)
        except InvalidInput:
            return None  # not a plate at all: no vehicle carries it
        row = repo.vehicle_by_plate(self._store.db, normalised)
        return None if row is None else VehicleRecord(**row)

    def upsert(self, records: Iterable[VehicleRecord]) -> int:
        """Insert or replace vehicles by plate, all or none; returns how many were written."""
        validated: list[VehicleRecord] = []
        for record in records:
            try:
                validated.append(validate_vehicle(asdict(record)))
            except VehicleDataError as exc:
                raise VehicleDataError(
                    f"vehicle {record.plate!r} not registered, nor any of this batch: {exc}"
                ) from None
        with self._store.transaction() as db:
            repo.upsert_vehicles(db, [asdict(record) for record in validated])
        return len(validated)

    def load_seed(self, path: Path) -> int:
        """Load a JSON-lines file (one vehicle object a line, blank lines ignored). Every line is
        checked before anything is written; the error names each bad line by number."""
        records: list[VehicleRecord] = []
        problems: list[str] = []
        first_line_of_plate: dict[str, int] = {}
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    if not isinstance(data, dict):
                        raise VehicleDataError("a line must hold one JSON object")
                    record = validate_vehicle(data)
                except json.JSONDecodeError as exc:
                    problems.append(f"{path}:{number}: not valid JSON ({exc.msg})")
                    continue
                except VehicleDataError as exc:
                    problems.append(f"{path}:{number}: {exc}")
                    continue
                earlier = first_line_of_plate.setdefault(record.plate, number)
                if earlier != number:
                    problems.append(f"{path}:{number}: plate {record.plate} repeats line {earlier}")
                    continue
                records.append(record)
        if problems:
            raise VehicleDataError("vehicle seed file rejected:\n" + "\n".join(problems))
        with self._store.transaction() as db:
            repo.upsert_vehicles(db, [asdict(record) for record in records])
        return len(records)
