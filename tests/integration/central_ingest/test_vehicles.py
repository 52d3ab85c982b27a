from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from central_ingest.cli.ops import ops_app
from central_ingest.core.cases import normalise_plate
from central_ingest.core.iin import is_valid_bin, is_valid_iin
from central_ingest.store.db import Store, open_store
from central_ingest.vehicles import (
    DEMO_SEED,
    SqliteVehicleRegister,
    VehicleDataError,
    VehicleRecord,
    normalise_phone,
)
from tests.support.stores import registry_target

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

SEED = DEMO_SEED
KZ_PLATE = re.compile(r"^\d{3}(?:[A-Z]{3}|[A-Z]{2})(0[1-9]|1\d|20)$")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(registry_target(tmp_path / "registry.sqlite3"))


@pytest.fixture
def register(store: Store) -> SqliteVehicleRegister:
    return SqliteVehicleRegister(store)


def seed_lines() -> list[dict[str, str]]:
    return [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_demo_seed_holds_kazakh_plates_and_valid_owner_numbers() -> None:
    lines = seed_lines()
    assert 25 <= len(lines) <= 40
    for line in lines:
        plate = normalise_plate(line["plate"])
        assert KZ_PLATE.fullmatch(plate), plate
        letters = re.sub(r"\d", "", plate)
        if line["owner_kind"] == "person":
            assert len(letters) == 3 and is_valid_iin(line["owner_id"])
        else:
            assert len(letters) == 2 and is_valid_bin(line["owner_id"])
        assert line.get("email", "x@example.kz").endswith("example.kz")


def test_seed_loads_and_lookup_accepts_any_spelling_of_the_plate(
    register: SqliteVehicleRegister,
) -> None:
    assert register.load_seed(SEED) == len(seed_lines())
    first = seed_lines()[0]
    plate = first["plate"]
    spaced = f"{plate[:3]} {plate[3:-2].lower()} {plate[-2:]}"
    cyrillic = plate.replace("A", "\u0410").replace("C", "\u0421")
    for spelling in (plate, spaced, cyrillic):
        found = register.lookup(spelling)
        assert found is not None
        assert found.owner_id == first["owner_id"]
        assert found.owner_name == first["owner_name"]
        assert found.phone is not None and re.fullmatch(r"\+7\d{10}", found.phone)
    assert register.lookup("000ZZZ99") is None


def test_the_register_reads_a_plate_as_the_cases_do(register: SqliteVehicleRegister) -> None:
    """One normalise_plate (central_ingest.core.cases) for the register and the officers'
    corrections: spaces, hyphens and Cyrillic look-alikes name the same vehicle; anything else
    is not a plate, refused on the way in and found nowhere."""
    record = VehicleRecord(
        plate="777-кор 05", owner_id="791028302728", owner_kind="person", owner_name="Test Person"
    )
    assert register.upsert([record]) == 1
    found = register.lookup("777 KOP 05")
    assert found is not None and found.plate == normalise_plate("777 КОР 05") == "777KOP05"
    odd = VehicleRecord(
        plate="12#AB", owner_id="791028302728", owner_kind="person", owner_name="Test Person"
    )
    with pytest.raises(VehicleDataError, match=r"plate: .*“12#AB” is not a plate"):
        register.upsert([odd])
    assert register.lookup("12#AB") is None
    assert register.lookup("no plate!") is None


def test_loading_the_seed_twice_replaces_rather_than_duplicates(
    store: Store,
    register: SqliteVehicleRegister,
) -> None:
    register.load_seed(SEED)
    register.load_seed(SEED)
    (count,) = store.db.conn.execute("SELECT count(*) FROM vehicles").fetchone()
    assert count == len(seed_lines())


def test_a_bad_seed_file_names_each_bad_line_and_writes_nothing(
    register: SqliteVehicleRegister, tmp_path: Path
) -> None:
    good = json.dumps(seed_lines()[0], ensure_ascii=False)
    bad_iin = json.dumps({**seed_lines()[1], "owner_id": "821214240092"}, ensure_ascii=False)
    bad_phone = json.dumps({**seed_lines()[2], "phone": "12345"}, ensure_ascii=False)
    path = write_lines(
        tmp_path / "vehicles.jsonl", [good, "", bad_iin, "{not json", bad_phone, "[1, 2]", good]
    )
    with pytest.raises(VehicleDataError) as raised:
        register.load_seed(path)
    message = str(raised.value)
    assert f"{path}:3: " in message and "not a valid IIN" in message
    assert f"{path}:4: not valid JSON" in message
    assert f"{path}:5: phone" in message and "+7 and ten digits" in message
    assert f"{path}:6: a line must hold one JSON object" in message
    assert f"{path}:7: plate {normalise_plate(seed_lines()[0]['plate'])} repeats line 1" in message
    assert register.lookup(seed_lines()[0]["plate"]) is None


def test_an_organisation_needs_a_bin_and_a_person_an_iin(
    register: SqliteVehicleRegister,
) -> None:
    person = VehicleRecord(
        plate="123ABC01", owner_id="791028302728", owner_kind="person", owner_name="Test Person"
    )
    assert register.upsert([person]) == 1
    company = VehicleRecord(
        plate="124AB02", owner_id="791028302728", owner_kind="organisation", owner_name="Test LLP"
    )
    with pytest.raises(VehicleDataError, match=r"'124AB02' not registered.*not a valid BIN"):
        register.upsert([company])
    assert register.lookup("124AB02") is None


def test_upsert_normalises_and_replaces_by_plate(register: SqliteVehicleRegister) -> None:
    register.upsert(
        [
            VehicleRecord(
                plate="123 abc 01",
                owner_id="791028302728",
                owner_kind="person",
                owner_name="First Owner",
                phone="8 (701) 123-45-67",
                email="first@example.kz",
            )
        ]
    )
    register.upsert(
        [
            VehicleRecord(
                plate="123ABC01",
                owner_id="061211600012",
                owner_kind="person",
                owner_name="Second Owner",
            )
        ]
    )
    found = register.lookup("123ABC01")
    assert found == VehicleRecord(
        plate="123ABC01", owner_id="061211600012", owner_kind="person", owner_name="Second Owner"
    )


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("+7 701 123 45 67", "+77011234567"),
        ("87011234567", "+77011234567"),
        ("+7(7172)12-34-56", "+77172123456"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw: str, normalised: str) -> None:
    assert normalise_phone(raw) == normalised


def test_seed_command_loads_the_file_and_reports_bad_lines(tmp_path: Path) -> None:
    runner = CliRunner(env={"ERAP_LANGUAGE": "en"})  # the command line's English sentences
    result = runner.invoke(ops_app, ["seed-vehicles", str(SEED), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Loaded {len(seed_lines())} vehicles" in result.output
    bad = write_lines(tmp_path / "bad.jsonl", ['{"plate": "1"}'])
    result = runner.invoke(ops_app, ["seed-vehicles", str(bad), "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{bad}:1: " in result.output
