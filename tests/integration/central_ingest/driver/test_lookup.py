"""Finding a case by its number and plate, on both stores: the right pair opens the case (plates
typed with spaces, lower case or Cyrillic letters too); a wrong plate and a case that does not
exist get the same answer; the lookups are limited per client address and, from every address
together, per case number, so that cases cannot be found by guessing."""

from __future__ import annotations

from pathlib import Path

import pytest
from httpx import Response

from central_ingest.config import DriverPageSettings
from central_ingest.driver.throttle import LookupThrottle
from central_ingest.store.bailiffs import Issuer
from tests.support.api import ApiEnv, build_env

pytestmark = pytest.mark.usefixtures("registry_store")

WRONG_PAIR = "Дела с таким номером и госномером нет"
THROTTLED = "Слишком много попыток"


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


def lookup(env: ApiEnv, case_number: str, plate: str, host: str = "10.0.0.1") -> Response:
    response: Response = env.client(host).post(
        "/cases/lookup?lang=ru",
        data={"case_number": case_number, "plate": plate},
        follow_redirects=False,
    )
    return response


def count(env: ApiEnv, table: str) -> int:
    return int(env.world.scalar(f"SELECT count(*) FROM {table}"))


@pytest.mark.parametrize("typed", ["123ABC01", "123 abc 01", "123-АВС-01"])
def test_the_right_pair_opens_the_case(env: ApiEnv, typed: str) -> None:
    case_number = env.world.open_case()
    found = lookup(env, f" {case_number.lower()} ", typed)
    assert found.status_code == 303
    target = found.headers["location"]
    assert target.startswith("/cases/") and case_number not in target
    page = env.client().get(target)
    assert page.status_code == 200 and f"Дело № {case_number}" in page.text
    # The page so opened lasts lookup_minutes.
    env.world.clock.advance(minutes=env.world.config.driver_page.lookup_minutes, seconds=1)
    assert env.client().get(target).status_code == 410


def test_a_wrong_plate_and_a_missing_case_get_the_same_answer_and_change_nothing(
    env: ApiEnv,
) -> None:
    case_number = env.world.open_case()
    missing = case_number[:-1] + ("2" if case_number[-1] != "2" else "3")
    links = count(env, "case_links")
    wrong_plate = lookup(env, case_number, "123ABC02")
    no_case = lookup(env, missing, "123ABC01", host="10.0.0.2")
    assert wrong_plate.status_code == no_case.status_code == 404
    assert WRONG_PAIR in wrong_plate.text
    # Word for word the same page, but for the case number the reader typed, shown back.
    assert wrong_plate.text.replace(case_number, "N") == no_case.text.replace(missing, "N")
    assert count(env, "case_links") == links


def test_one_address_is_limited_whatever_it_asks(env: ApiEnv) -> None:
    settings = DriverPageSettings(lookup_burst=3, lookups_per_minute=1, case_try_burst=100)
    env.app.state.driver_throttle = LookupThrottle(settings)
    case_number = env.world.open_case()
    for number in range(3):
        assert lookup(env, f"KZ-GP-2025-90000{number}", "123ABC01").status_code == 404
    refused = lookup(env, case_number, "123ABC01")
    assert refused.status_code == 429 and THROTTLED in refused.text
    assert int(refused.headers["retry-after"]) >= 1
    # Another address is heard; the limited one again after the wait.
    assert lookup(env, case_number, "123ABC01", host="10.0.0.9").status_code == 303
    links = count(env, "case_links")
    assert lookup(env, case_number, "123ABC01").status_code == 429
    assert count(env, "case_links") == links


def test_guessing_plates_from_many_addresses_stops_at_the_case_number(env: ApiEnv) -> None:
    settings = DriverPageSettings(case_try_burst=4, case_tries_per_hour=1)
    env.app.state.driver_throttle = LookupThrottle(settings)
    case_number = env.world.open_case()
    other = env.world.open_case()
    missing = "KZ-GP-2025-0099999"
    for target in (case_number, missing):
        for guess in range(4):
            wrong = lookup(env, target, f"{guess:03d}ABC01", host=f"10.1.{guess}.1")
            assert wrong.status_code == 404
        # A fifth address, even with the right plate: the case number rests for a while,
        # and an existing case number rests exactly like a missing one.
        refused = lookup(env, target, "123ABC01", host="10.2.0.1")
        assert refused.status_code == 429 and THROTTLED in refused.text
    assert lookup(env, other, "123ABC01", host="10.3.0.1").status_code == 303


def test_a_link_with_the_case_number_alone_fills_the_form_in_and_opens_nothing(
    env: ApiEnv,
) -> None:
    """The link printed on a roadside copy, a receipt or a bailiffs' document carries the case
    number only: it opens the lookup form with the number filled in, and the plate is still
    needed to see the case."""
    case_number = env.world.open_case()
    issuer = Issuer(agency_code="KZ-GP", case_link_base_url="https://erap.example.kz/cases")
    link = issuer.case_url(case_number)
    assert link == f"https://erap.example.kz/cases/?case={case_number}"
    links = count(env, "case_links")
    form = env.client().get(link.removeprefix("https://erap.example.kz") + "&lang=ru")
    assert form.status_code == 200
    assert f'value="{case_number}"' in form.text
    assert f"Дело № {case_number}" not in form.text
    assert count(env, "case_links") == links
    # Typed in lower case or with spaces, the number is filled in as the registry writes it.
    spaced = env.client().get(f"/cases/?case= {case_number.lower()} ")
    assert f'value="{case_number}"' in spaced.text
