"""Finding cases by the owner's name as a person types it, over a real SQLite file.

SQLite's lower() and LIKE fold ASCII letters only, so 'серік' would never find 'Серік' with
them; the registry folds both sides with Python's ``str.casefold`` (a function registered on
every connection), which knows Kazakh and Russian letters, and matches the reader's ``%`` and
``_`` as themselves."""

from __future__ import annotations

import pytest

from central_ingest.cases import MAX_NAME_SEARCH_LENGTH
from central_ingest.core.errors import InvalidInput
from central_ingest.core.iin import check_digit
from central_ingest.store import case_reads
from central_ingest.vehicles import VehicleRecord
from tests.support.api import REVIEWER, ApiEnv, build_env
from tests.support.registry_fixtures import OWNER_PERSON

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


def _numbered(first_eleven: str) -> str:
    """Twelve digits with a valid check digit (an IIN or BIN, by the digits chosen)."""
    digit = check_digit(first_eleven)
    assert digit is not None
    return f"{first_eleven}{digit}"


SERIK = VehicleRecord(
    plate="777SER01",
    owner_id=_numbered("85031530011"),
    owner_kind="person",
    owner_name="Серік Әлібекұлы",
    language="kk",
)
INKAR = VehicleRecord(
    plate="778INK02",
    owner_id=_numbered("92070160022"),
    owner_kind="person",
    owner_name="Іңкәр Ұлықбекқызы",
)
# A name with the characters LIKE treats as wildcards.
COMPANY = VehicleRecord(
    plate="779CMP01",
    owner_id=_numbered("99044000012"),
    owner_kind="organisation",
    owner_name="ТОО «Авто_100%»",
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> ApiEnv:
    """One case for each owner (and one for Nurlan Abenov, Latin letters)."""
    built = build_env(tmp_path_factory.mktemp("search"))
    built.world.vehicles.upsert([SERIK, INKAR, COMPANY])
    for record in (SERIK, INKAR, COMPANY, OWNER_PERSON):
        built.world.open_case(plate=record.plate)
    return built


def _owners(env: ApiEnv, typed: str) -> list[str]:
    return [case.owner_name or "" for case in env.world.registry.find_cases(owner_name=typed)]


@pytest.mark.parametrize(
    "typed",
    ["серік", "СЕРІК", "Серік", "әлібекұлы", "ӘЛІБЕКҰЛЫ", "к әлі", "  серік   әлібекұлы "],
)
def test_a_kazakh_name_is_found_in_any_letter_case(env: ApiEnv, typed: str) -> None:
    assert _owners(env, typed) == ["Серік Әлібекұлы"]


@pytest.mark.parametrize(
    "typed",
    # І/і, Ә/ә, Ұ/ұ, Ң/ң and Қ/қ: the letters of Kazakh that Russian does not have
    ["іңкәр", "ІҢКӘР", "ұлықбекқызы", "ҰЛЫҚБЕКҚЫЗЫ", "іңКӘр ұЛЫҚ"],
)
def test_the_letters_of_kazakh_fold_like_any_other(env: ApiEnv, typed: str) -> None:
    assert _owners(env, typed) == ["Іңкәр Ұлықбекқызы"]


def test_latin_names_are_found_as_before(env: ApiEnv) -> None:
    assert _owners(env, "ABENOV") == [OWNER_PERSON.owner_name]
    assert _owners(env, "nurlan a") == [OWNER_PERSON.owner_name]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        # as wildcards, these would match every owner, or Серік's "ері"
        ("%%", []),
        ("__", []),
        ("е_і", []),
        ("т%о", []),
        # as themselves, they match the one name that holds them
        ("о_1", ["ТОО «Авто_100%»"]),
        ("0%»", ["ТОО «Авто_100%»"]),
        ("АВТО_", ["ТОО «Авто_100%»"]),
    ],
)
def test_percent_and_underscore_match_literally(env: ApiEnv, typed: str, found: list[str]) -> None:
    assert _owners(env, typed) == found


def test_a_backslash_is_an_ordinary_character(env: ApiEnv) -> None:
    assert _owners(env, "\\%") == []
    assert _owners(env, "\\_") == []


def test_the_name_combines_with_the_other_criteria(env: ApiEnv) -> None:
    found = env.world.registry.find_cases(plate="777 SER 01", owner_name="серік")
    assert [case.plate for case in found] == [SERIK.plate]
    assert env.world.registry.find_cases(plate=INKAR.plate, owner_name="серік") == []
    by_both = env.world.registry.find_cases(owner_id=SERIK.owner_id, owner_name="әлібек")
    assert [case.owner_id for case in by_both] == [SERIK.owner_id]


@pytest.mark.parametrize("typed", ["с", "  с  ", "с" * (MAX_NAME_SEARCH_LENGTH + 1)])
def test_a_name_too_short_or_too_long_is_refused(env: ApiEnv, typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        env.world.registry.find_cases(owner_name=typed)
    assert refused.value.code == "invalid_name_search"


def test_the_answer_is_bounded(env: ApiEnv) -> None:
    """Every owner's name holds a space: with a limit, only that many come back, newest
    first."""
    db = env.world.store.db
    everyone = case_reads.case_rows(db, plate=None, owner_id=None, owner_name=" ", limit=None)
    assert len(everyone) == 4
    bounded = case_reads.case_rows(db, plate=None, owner_id=None, owner_name=" ", limit=2)
    assert [row["case_number"] for row in bounded] == [row["case_number"] for row in everyone[:2]]


def test_the_api_searches_by_name(env: ApiEnv) -> None:
    client = env.client()
    response = client.get(
        "/v1/cases", params={"owner_name": "СЕРІК"}, headers=env.headers(REVIEWER)
    )
    assert response.status_code == 200, response.text
    assert [case["owner_name"] for case in response.json()] == ["Серік Әлібекұлы"]

    literal = client.get("/v1/cases", params={"owner_name": "%%"}, headers=env.headers(REVIEWER))
    assert literal.status_code == 200 and literal.json() == []

    short = client.get(
        "/v1/cases",
        params={"owner_name": "с"},
        headers={**env.headers(REVIEWER), "Accept-Language": "ru"},
    )
    assert short.status_code == 422
    assert short.json()["error"] == "invalid_name_search"
    assert short.json()["detail"] == (
        f"Для поиска по имени собственника введите от 2 до {MAX_NAME_SEARCH_LENGTH} символов."
    )
    too_long = client.get(
        "/v1/cases",
        params={"owner_name": "с" * (MAX_NAME_SEARCH_LENGTH + 1)},
        headers=env.headers(REVIEWER),
    )
    assert too_long.status_code == 422 and too_long.json()["error"] == "invalid_request"

    nothing = client.get("/v1/cases", headers={**env.headers(REVIEWER), "Accept-Language": "kk"})
    assert nothing.status_code == 422
    assert nothing.json()["error"] == "search_criteria_required"
    assert nothing.json()["detail"].startswith("Істерді іздеу шартын көрсетіңіз")
