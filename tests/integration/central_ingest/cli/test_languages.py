"""The registry's command line in Kazakh, Russian and English, run for real over a registry
file: the prosecutor's ``audit verify`` after edits made with the sqlite3 shell, an operator
command's refusal, and the choice of language (``--language``, then ``ERAP_LANGUAGE``, then the
configuration's ``language``, Russian by default). The API's verification follows the
request's Accept-Language."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from central_ingest.audit import load_or_create_registry_key, sign_tree_head, verify_registry
from central_ingest.cli import app
from central_ingest.cli import progress as cli_progress
from central_ingest.cli.audit import audit_app
from central_ingest.cli.progress import LiveProgress
from central_ingest.operators import Role
from i18n import translator
from tests.support.api import PROSECUTOR, build_env
from tests.support.audit_registry import CASE_PAID, REPO_ROOT, Registry, build_registry

runner = CliRunner()

CLEAN = {
    "kk": "OK: бұрмалау белгілері табылған жоқ.",
    "ru": "OK: признаков подделки не обнаружено.",
    "en": "OK: no sign of tampering.",
}


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    built = build_registry(tmp_path)
    yield built
    built.store.close()


def _erap_registry(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``erap-registry ARGS`` as its own process, as the prosecutor runs it."""
    environment = {key: value for key, value in os.environ.items() if key != "ERAP_LANGUAGE"}
    return subprocess.run(
        [sys.executable, "-m", "central_ingest", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        env={**environment, **(env or {})},
        check=False,
    )


def _verify(
    registry: Registry, *options: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    result = _erap_registry(
        *options, "audit", "verify", "--data-dir", str(registry.config.data_dir), env=env
    )
    return result.returncode, result.stdout + result.stderr


def _edit_an_entry(registry: Registry) -> None:
    """Seq 3's actor rewritten: the entry no longer hashes to what it recorded, and both signed
    heads no longer match the ledger."""
    registry.shell(
        "DROP TRIGGER ledger_no_update; UPDATE ledger SET actor='officer:mallory' WHERE seq=3"
    )


def test_a_tampered_ledger_is_reported_in_russian_and_in_kazakh(registry: Registry) -> None:
    _edit_an_entry(registry)

    code, russian = _verify(registry, "--language", "ru")
    assert code == 1, russian
    assert "ОБНАРУЖЕНА ПОДДЕЛКА: 3 проблемы." in russian
    assert (
        "- Запись журнала аудита № 3 (device cam-001, registered, исполнитель officer:mallory)"
        " изменена после записи" in russian
    )
    assert (
        "- Подписанная вершина дерева Меркла размером 6 не соответствует журналу аудита" in russian
    )
    assert "Проверено — записей журнала аудита: 15" in russian

    code, kazakh = _verify(registry, "--language", "kk")
    assert code == 1, kazakh
    assert "БҰРМАЛАУ АНЫҚТАЛДЫ: 3 ақау." in kazakh
    assert (
        "- Аудит журналының № 3 жазбасы (device cam-001, registered, орындаушы officer:mallory)"
        " жазылғаннан кейін өзгертілген" in kazakh
    )
    assert (
        "- Өлшемі 15 болатын Меркл ағашының қол қойылған түбірі аудит журналына сәйкес келмейді"
        in kazakh
    )
    for output in (russian, kazakh):
        # Nothing of the English report is left, only the ledger's own codes.
        for english in ("TAMPERING", "Ledger entry", "tree head", "Checked", "was altered"):
            assert english not in output


def test_one_edited_case_is_one_problem_in_the_russian_singular(registry: Registry) -> None:
    registry.shell(
        "DROP TRIGGER case_closed_stays_closed; DROP TRIGGER case_cancelled_needs_approval;"
        f" UPDATE cases SET status='cancelled' WHERE case_number='{CASE_PAID}'"
    )
    code, russian = _verify(registry, "--language", "ru")
    assert code == 1
    assert "ОБНАРУЖЕНА ПОДДЕЛКА: 1 проблема." in russian
    assert (
        f"- Таблица cases, строка {CASE_PAID}: поле status равно 'cancelled', а журнал аудита"
        " говорит 'paid' (№ 11): строка изменена в обход сервиса реестра." in russian
    )


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_a_clean_registry_says_so_in_the_chosen_language(registry: Registry, language: str) -> None:
    code, output = _verify(registry, "--language", language)
    assert code == 0, output
    assert output.splitlines()[-1] == CLEAN[language]
    assert [line for other, line in CLEAN.items() if other != language and line in output] == []


def test_erap_language_is_honoured_and_the_option_comes_first(registry: Registry) -> None:
    code, output = _verify(registry, env={"ERAP_LANGUAGE": "kk"})
    assert code == 0 and output.splitlines()[-1] == CLEAN["kk"]
    code, output = _verify(registry, "--language", "en", env={"ERAP_LANGUAGE": "kk"})
    assert code == 0 and output.splitlines()[-1] == CLEAN["en"]
    # Neither: the configuration's language, Russian unless it says otherwise.
    code, output = _verify(registry)
    assert code == 0 and output.splitlines()[-1] == CLEAN["ru"]


def test_the_configuration_language_is_the_default(registry: Registry, tmp_path: Path) -> None:
    config = tmp_path / "registry.toml"
    config.write_text('language = "kk"\n', encoding="utf-8")
    result = _erap_registry(
        "audit", "verify", "--config", str(config), "--data-dir", str(registry.config.data_dir)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == CLEAN["kk"]


def test_an_unknown_language_is_refused_in_words(registry: Registry) -> None:
    code, output = _verify(registry, env={"ERAP_LANGUAGE": "de"})
    assert code == 2
    assert (
        "ERAP_LANGUAGE имеет значение 'de', но такого языка в реестре нет: используйте kk, ru"
        " или en." in output
    )
    code, output = _verify(registry, "--language", "de")
    assert code == 2 and "--language" in output


def test_the_choice_ends_with_the_command(registry: Registry) -> None:
    """Commands run one after another in one process (as here) do not inherit a language."""
    data_dir = ["--data-dir", str(registry.config.data_dir)]
    chosen = runner.invoke(app, ["--language", "kk", "audit", "verify", *data_dir])
    assert chosen.exit_code == 0 and CLEAN["kk"] in chosen.output
    alone = runner.invoke(audit_app, ["verify", *data_dir], env={"ERAP_LANGUAGE": None})
    assert alone.exit_code == 0 and CLEAN["ru"] in alone.output


def test_the_progress_bar_names_each_stage_in_the_readers_language(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bar shows on a terminal once a check runs long; here at once, on a recorded one."""
    terminal = Console(record=True, force_terminal=True, width=160, file=io.StringIO())
    monkeypatch.setattr(cli_progress, "_err", terminal)
    monkeypatch.setattr(cli_progress, "_SHOW_PROGRESS_AFTER_S", 0.0)
    with LiveProgress(translator("registry", "kk")) as progress:
        verify_registry(registry.store, registry.key.public_key_b64, progress=progress)
    shown = terminal.export_text()
    for stage in (
        "Меркл ағашының түбірлері",
        "аудит журналының жазбалары",
        "Меркл ағашының түйіндері",
        "тіркеулер мен істер",
    ):
        assert stage in shown
    assert "ledger entries" not in shown
    assert "15/15" in shown  # every ledger entry, counted as Kazakh writes numbers


def test_an_operator_refusal_is_printed_in_the_chosen_language(tmp_path: Path) -> None:
    data_dir = ["--data-dir", str(tmp_path / "registry")]

    def operator(language: str, *args: str) -> tuple[int, str]:
        result = runner.invoke(
            app,
            ["--language", language, "operator", *args, *data_dir],
            env={"ERAP_OPERATOR_PASSWORD": "a long reviewer password"},
        )
        return result.exit_code, result.output

    refusals = {language: operator(language, "language", "nobody", "kk") for language in CLEAN}
    assert refusals == {
        "kk": (1, "Пайдаланушы аты nobody болатын оператор жоқ.\n"),
        "ru": (1, "Оператора с именем пользователя nobody нет.\n"),
        "en": (1, "There is no operator named nobody.\n"),
    }
    code, created = operator(
        "kk", "add", "rev.cli", "--role", Role.REVIEWER.value, "--display-name", "Серік Әлібекұлы"
    )
    assert code == 0
    assert created == "rev.cli (Серік Әлібекұлы) тіркелгісі жасалды, рөлі: тексеруші қызметкер.\n"
    code, answer = operator("ru", "language", "rev.cli", "kk")
    assert code == 0
    assert answer == "rev.cli теперь работает на языке: Қазақша (kk).\n"
    code, refused = operator("kk", "language", "rev.cli", "kz")
    assert code == 2
    assert refused == "Тізілімде 'kz' тілі жоқ: kk, ru, en немесе default қолданыңыз.\n"


def test_the_apis_verification_follows_accept_language(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    world = env.world
    case_number = world.open_case()
    key = load_or_create_registry_key(world.config.registry_key_path)
    sign_tree_head(world.store, key, world.clock.now)
    with world.store.transaction() as db:
        db.conn.execute("UPDATE cases SET paid_minor = 100 WHERE case_number = ?", (case_number,))
    client = env.client()
    answers = {
        language: client.get(
            "/v1/audit/verify",
            headers={**env.headers(PROSECUTOR), "Accept-Language": language},
        )
        for language in ("kk", "ru", "en")
    }
    expected = {
        "kk": f"cases кестесі, {case_number} жолы: paid_minor өрісі 100, ал аудит журналында 0",
        "ru": f"Таблица cases, строка {case_number}: поле paid_minor равно 100, а журнал аудита",
        "en": f"Table cases, row {case_number}: paid_minor is 100 but the ledger says 0",
    }
    for language, answer in answers.items():
        assert answer.status_code == 200
        assert answer.headers["Content-Language"] == language
        report = answer.json()
        assert report["ok"] is False
        (problem,) = report["problems"]
        assert problem.startswith(expected[language]), problem
