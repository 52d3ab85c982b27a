"""The console in Kazakh, Russian and English over HTTP, on a real SQLite registry: every page in
the operator's language (``<html lang>``, translated words, CLDR amounts and Astana dates), the
switcher saving to the profile, the sign-in page following the cookie and Accept-Language, and
the review script's calls answered in the page's language."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_ingest.api.settings import ApiSettings
from central_ingest.audit import load_or_create_registry_key, sign_tree_head
from central_ingest.console import ConsoleSettings
from central_ingest.console.desk import ReviewDesk
from central_ingest.console.language import LANGUAGE_COOKIE
from central_ingest.vehicles import VehicleRecord
from i18n import Language
from tests.support.api import PASSWORD, PROSECUTOR, ApiEnv, build_env
from tests.support.paths import REPOSITORY
from tests.support.registry_fixtures import REVIEWERS, SUPERVISORS

BASE = "http://testserver"
ORIGIN = {"Origin": BASE}
TEMPLATES = REPOSITORY / "central_ingest" / "console" / "templates"
SCRIPT = TEMPLATES.parent / "static" / "review.js"
NBSP = "\u00a0"

# The case the world opens: speeding, 10 MRP of 2025 (3,932 KZT), at 10:59:57 Astana time.
FINE = {"kk": f"39{NBSP}320,00{NBSP}₸", "ru": f"39{NBSP}320,00{NBSP}₸", "en": "39,320.00"}
OFFENCE_TIME = {
    "kk": "10.03.2025 10:59:57",
    "ru": "10.03.2025 10:59:57",
    "en": "Mar 10, 2025, 10:59:57",
}
LANGUAGES: tuple[Language, ...] = ("kk", "ru", "en")

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


@dataclass
class Scene:
    env: ApiEnv
    case_number: str
    waiting: str
    request_id: int


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    env = build_env(tmp_path, api_settings=ApiSettings(secure_cookies=False))
    desk: ReviewDesk = env.app.state.review_desk
    desk.clock = env.world.clock
    desk.settings = ConsoleSettings(double_review_rate=0.0)
    world = env.world
    case_number = world.open_case()
    disputed = world.open_case()
    world.registry.request_cancellation(disputed, REVIEWERS[1], "the car was on a tow truck")
    (pending,) = world.registry.pending_cancellations()
    waiting = world.add_fixation()  # same plate: the review screen lists the case above
    sign_tree_head(
        world.store, load_or_create_registry_key(world.config.registry_key_path), world.clock.now
    )
    return Scene(env, case_number, waiting, pending.request_id)


def signed_in(env: ApiEnv, username: str, language: Language | None) -> tuple[TestClient, str]:
    env.operators.set_language(username, language, actor="system:tests")
    client = TestClient(env.app, base_url=BASE)
    response = client.post(
        "/console/login",
        data={"username": username, "password": PASSWORD},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    match = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', page.text)
    assert match, page.text[:300]
    return client, match.group(1)


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([a-z]{2})">', html)
    assert match, html[:200]
    return match.group(1)


# What each page must say in each language: a word from the console's catalog, and where the
# page shows them, one from the registry's (its labels, through the fallback), an amount and
# a date.
PAGE_WORDS = {
    "review": {
        "kk": ["Күтуде:", "Пернелер", "белгіленген жылдамдықты асыру"],
        "ru": ["Ожидают:", "Клавиши", "превышение установленной скорости движения"],
        "en": ["Waiting:", "Keys", "speeding"],
    },
    "me": {
        "kk": ["Менің көрсеткіштерім", "Интерфейс тілі"],
        "ru": ["Мои показатели", "Язык интерфейса"],
        "en": ["My figures", "Language of my screens"],
    },
    "cases": {
        "kk": ["Қазір төленуге тиіс", "орындалуда"],
        "ru": ["К уплате сейчас", "на исполнении"],
        "en": ["Due now", "open"],
    },
    "case": {
        "kk": ["Айыппұлдың елу пайызы", "ӘҚБтК 592-бабының"],
        "ru": ["Пятьдесят процентов штрафа", "ст. 592 КоАП РК"],
        "en": ["Half the fine", "article 592"],
    },
    "supervisor": {
        "kk": ["Мақұлдау", "Басшыны күтіп тұрған күшін жою өтініштері"],
        "ru": ["Одобрить", "Запросы на отмену, ожидающие руководителя"],
        "en": ["Approve", "Cancellations waiting for a supervisor"],
    },
    "prosecutor": {
        "kk": ["Бүкіл журналды қазір тексеру", "Қызметкерлер бойынша"],
        "ru": ["Проверить весь журнал сейчас", "Снятия по сотрудникам"],
        "en": ["Verify the whole ledger now", "Removals by officer"],
    },
    "verify": {
        "kk": ["Бұрмалау белгілері табылған жоқ."],
        "ru": ["Признаков подделки не обнаружено."],
        "en": ["No sign of tampering found."],
    },
    "forbidden": {
        "kk": ["Сіздің рөліңізге қолжетімсіз", "«тексеруші қызметкер» рөліне"],
        "ru": ["Недоступно для вашей роли", "«проверяющий сотрудник»"],
        "en": ["Not for your role", "reviewing officer"],
    },
    "missing": {"kk": ["Іс табылмады"], "ru": ["Дело не найдено"], "en": ["No such case"]},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_speaks_the_operators_language(scene: Scene, language: Language) -> None:
    env, number = scene.env, scene.case_number
    reviewer, _ = signed_in(env, REVIEWERS[0], language)
    supervisor, _ = signed_in(env, SUPERVISORS[0], language)
    prosecutor, _ = signed_in(env, PROSECUTOR, language)
    pages = {
        "review": (reviewer, "/console/review", 200),
        "me": (reviewer, "/console/me", 200),
        "cases": (reviewer, "/console/cases?plate=123ABC01", 200),
        "case": (reviewer, f"/console/cases/{number}", 200),
        "supervisor": (supervisor, "/console/supervisor", 200),
        "prosecutor": (prosecutor, "/console/prosecutor", 200),
        "verify": (prosecutor, "/console/prosecutor/verify", 200),
        "forbidden": (reviewer, "/console/supervisor", 403),
        "missing": (reviewer, "/console/cases/KZ-GP-2099-0999999", 404),
    }
    for name, (client, path, status) in pages.items():
        page = client.get(path)
        assert page.status_code == status, (name, page.text[:300])
        assert lang_of(page.text) == language, name
        for word in PAGE_WORDS[name][language]:
            assert word in page.text, (name, language, word)
        if name in ("review", "cases", "case"):
            assert FINE[language] in page.text, (name, language)
            assert OFFENCE_TIME[language] in page.text, (name, language)
    # The header names the role in the reader's words and offers every language by its name.
    header = reviewer.get("/console/me").text.split("</header>")[0]
    assert {"kk": "тексеруші қызметкер", "ru": "проверяющий сотрудник", "en": "reviewing officer"}[
        language
    ] in header
    for name in ("Қазақша", "Русский", "English"):
        assert name in header
    assert f'value="{language}" lang="{language}" aria-pressed="true"' in header


def test_the_review_script_gets_its_sentences_and_items_in_the_operators_language(
    scene: Scene,
) -> None:
    client, csrf = signed_in(scene.env, REVIEWERS[0], "kk")
    page = client.get("/console/review").text
    match = re.search(r'<script type="application/json" id="review-messages">(.*?)</script>', page)
    assert match, "the page hands the script its sentences"
    messages = json.loads(match.group(1))
    assert messages["confirmed_case"] == "Расталды: {plate}, іс {case}."
    assert messages["put_aside"] == "Кейінге қалдырылды."
    assert '<template id="empty-template">' in page and "Тексеруді күтіп тұрған" in page
    # The preloaded item comes as HTML in the officer's language too.
    following = client.get("/console/api/next", params={"skip": [scene.waiting]}).json()
    assert following["next"] is None
    current = client.get("/console/api/next").json()["next"]
    assert current["fixation_id"] == scene.waiting and "Толық кадр" in current["html"]
    assert FINE["kk"] in current["html"]
    # Refusals written by the console itself come back in the officer's language.
    refused = client.post(
        "/console/api/decisions",
        json={
            "fixation_id": scene.waiting,
            "kind": "review",
            "action": "confirm",
            "seconds_spent": 2.0,
        },
        headers={**ORIGIN, "X-CSRF-Token": "0" * 64},
    )
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_refused"
    assert refused.json()["detail"].startswith("Сұрау пульт бетінен жіберілмеген")
    no_reason = client.post(
        "/console/api/decisions",
        json={
            "fixation_id": scene.waiting,
            "kind": "review",
            "action": "reject",
            "seconds_spent": 2.0,
        },
        headers={**ORIGIN, "X-CSRF-Token": csrf},
    )
    assert no_reason.status_code == 422
    assert no_reason.json() == {
        "error": "reject_reason_required",
        "detail": "Қабылдамау үшін себеп көрсету керек (1–7 пернелері).",
    }
    # Signed out, the script's Accept-Language (the page's lang) chooses.
    anonymous = TestClient(scene.env.app, base_url=BASE)
    ended = anonymous.get("/console/api/next", headers={"Accept-Language": "ru"})
    assert ended.status_code == 401
    assert ended.json() == {"error": "session_invalid", "detail": "Сеанс завершён; войдите снова."}


def test_the_registrys_refusals_reach_the_console_in_the_readers_language(scene: Scene) -> None:
    env = scene.env
    wrong = TestClient(env.app, base_url=BASE).post(
        "/console/login",
        data={"username": REVIEWERS[0], "password": "nope"},
        headers={**ORIGIN, "Accept-Language": "kk"},
    )
    assert wrong.status_code == 401 and lang_of(wrong.text) == "kk"
    assert "Пайдаланушы аты немесе құпиясөз қате" in wrong.text
    # The two-person rule, refused by the registry's core, on the supervisor's page in Russian.
    supervisor, csrf = signed_in(env, SUPERVISORS[0], "ru")
    own = env.world.registry.request_cancellation(
        scene.case_number, SUPERVISORS[0], "seen on the photo: an ambulance"
    )
    refused = supervisor.post(
        f"/console/cancellations/{own.request_id}/decision",
        data={"decision": "approve", "csrf_token": csrf},
        headers=ORIGIN,
    )
    assert refused.status_code == 200 and lang_of(refused.text) == "ru"
    assert f"Отмену запросил сотрудник {SUPERVISORS[0]}, поэтому" in refused.text
    # A decision that goes through is reported in the same language, with the status's label.
    approved = supervisor.post(
        f"/console/cancellations/{scene.request_id}/decision",
        data={"decision": "approve", "csrf_token": csrf},
        headers=ORIGIN,
    )
    assert f"Запрос № {scene.request_id} одобрен" in approved.text
    assert "в статусе «отменено»" in approved.text


def test_the_switcher_saves_the_language_to_the_operators_profile(scene: Scene) -> None:
    env = scene.env
    client, csrf = signed_in(env, REVIEWERS[0], "en")
    chosen = client.post(
        "/console/language",
        data={"language": "kk", "next": "/console/cases?plate=123ABC01", "csrf_token": csrf},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/console/cases?plate=123ABC01", "back to the same page"
    operator = env.operators.get(REVIEWERS[0])
    assert operator is not None and operator.language == "kk"
    page = client.get(chosen.headers["location"])
    assert lang_of(page.text) == "kk" and "Қазір төленуге тиіс" in page.text
    # The profile wins over the cookie and the browser: another browser signs in in Kazakh.
    other, _ = signed_in(env, REVIEWERS[0], "kk")
    assert lang_of(other.get("/console/me", headers={"Accept-Language": "en"}).text) == "kk"
    # On /console/me: back to the registry's default (Russian in this registry).
    default = client.post(
        "/console/language",
        data={"language": "", "next": "/console/me", "csrf_token": csrf},
        headers=ORIGIN,
    )
    assert default.status_code == 200, default.text[:400]
    operator = env.operators.get(REVIEWERS[0])
    assert operator is not None and operator.language is None
    assert lang_of(default.text) == env.world.config.language == "ru"
    assert '<option value="" selected>' in default.text
    # A forged choice changes nothing.
    for headers, token, code in (
        (ORIGIN, "0" * 64, "en"),
        ({"Origin": "https://evil.example"}, csrf, "en"),
        (ORIGIN, csrf, "de"),
    ):
        forged = client.post(
            "/console/language", data={"language": code, "csrf_token": token}, headers=headers
        )
        assert forged.status_code == 403
        operator = env.operators.get(REVIEWERS[0])
        assert operator is not None and operator.language is None


def test_the_sign_in_page_follows_the_cookie_then_accept_language_then_the_registry(
    scene: Scene,
) -> None:
    client = TestClient(scene.env.app, base_url=BASE)
    assert lang_of(client.get("/console/login").text) == "ru", "the registry's default"
    kazakh = client.get("/console/login", headers={"Accept-Language": "kk-KZ,ru;q=0.8"})
    assert lang_of(kazakh.text) == "kk" and "Пайдаланушы аты" in kazakh.text
    unknown = client.get("/console/login", headers={"Accept-Language": "de-DE,fr;q=0.5"})
    assert lang_of(unknown.text) == "ru"
    chosen = client.post(
        "/console/language",
        data={"language": "en", "next": "/console/login?next=%2Fconsole%2Fme"},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/console/login?next=%2Fconsole%2Fme"
    assert f"{LANGUAGE_COOKIE}=en" in chosen.headers["set-cookie"]
    page = client.get(chosen.headers["location"], headers={"Accept-Language": "kk"})
    assert lang_of(page.text) == "en", "the switcher's choice beats the browser's"
    assert "Sign in to open that page." in page.text
    refused = client.post(
        "/console/login",
        data={"username": "nobody", "password": "x"},
        headers={**ORIGIN, "Accept-Language": "kk"},
    )
    assert lang_of(refused.text) == "en"
    assert (
        TestClient(scene.env.app, base_url=BASE)
        .post(
            "/console/language", data={"language": "kk"}, headers={"Origin": "https://evil.example"}
        )
        .status_code
        == 403
    )


def test_no_template_or_script_hard_codes_a_language() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert 'lang="en"' not in text, template.name
        if "<html" in text:
            assert '<html lang="{{ language }}">' in text, template.name
    script = SCRIPT.read_text(encoding="utf-8")
    code = "\n".join(line for line in script.splitlines() if not line.strip().startswith("//"))
    sentences = re.findall(r"""["'`][A-Z][a-z]+ [a-z]+[^"'`]*["'`]""", code)
    assert sentences == [], "review.js takes every sentence from the page"
    assert '"Accept-Language": LANGUAGE' in script


@pytest.mark.parametrize("typed", ["серік", "СЕРІК", "әлібекұлы"])
def test_an_officer_finds_cases_by_the_owners_name_in_any_letter_case(
    scene: Scene, typed: str
) -> None:
    """SQLite folds ASCII only; the console's search must find Серік however it is typed."""
    world = scene.env.world
    world.vehicles.upsert(
        [VehicleRecord("777KZK01", "791028302728", "person", "Серік Әлібекұлы", language="kk")]
    )
    number = world.open_case(plate="777KZK01")
    client, _ = signed_in(scene.env, REVIEWERS[0], "kk")
    page = client.get("/console/cases", params={"owner": typed})
    assert page.status_code == 200
    assert f'href="/console/cases/{number}"' in page.text
    assert "Серік Әлібекұлы" in page.text
    assert scene.case_number not in page.text  # Nurlan's case: another owner
    assert "Меншік иесінің аты" in page.text  # the form's label, in the officer's Kazakh


def test_a_name_search_no_case_matches_says_so_in_the_officers_language(scene: Scene) -> None:
    client, _ = signed_in(scene.env, REVIEWERS[0], "ru")
    page = client.get("/console/cases", params={"owner": "Жанар"})
    assert page.status_code == 200 and "Дела не найдены." in page.text
