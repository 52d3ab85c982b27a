"""The terminal in Kazakh and Russian, without a printer: the receipt's lines in each language
(the Code's citation, Astana time, amounts in CLDR's format with the ISO code), the choice of
a character table per line from python-escpos's real capabilities database, the officer's
sentences and their storage form, and the configuration's language and printer settings.

The catalogs (``i18n/locale``) and the capabilities database are package data read as
modules are; nothing here opens a file of its own, a socket or a device."""

from __future__ import annotations

import pytest
from escpos.capabilities import CAPABILITIES

from i18n import PluralText, Text, translator
from terminal.config import TerminalConfig
from terminal.emv import CardRemoved
from terminal.journal import PaymentState
from terminal.messages import decode_message, encode_message
from terminal.money import paper_money
from terminal.paper import (
    TextLine,
    code_page_for,
    is_ascii,
    load_profile,
    profile_names,
)
from terminal.receipt import ReceiptData, agency_name, receipt_lines
from terminal.registry_client import case_status
from terminal.service import payment_state
from tests.support.receipts import AGENCY, KAZAKH_LINES, NBSP, RUSSIAN_LINES, sample_receipt

KAZAKH_LETTERS = "ӘҒҚҢӨҰҮҺІәғқңөұүһі"


def receipt(amount_minor: int) -> ReceiptData:
    return sample_receipt(amount_minor)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", f"21{NBSP}625,00{NBSP}KZT"),
        ("kk", f"21{NBSP}625,00{NBSP}KZT"),
        ("en", f"21,625.00{NBSP}KZT"),
    ],
)
def test_amounts_on_paper_use_cldr_with_the_iso_code(language: str, text: str) -> None:
    assert paper_money(21_625_00, language) == text  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_screen_keeps_the_tenge_sign_that_no_printer_table_holds(language: str) -> None:
    assert translator("terminal", language).money(21_625_00) == f"21{NBSP}625,00{NBSP}₸"  # type: ignore[arg-type]
    assert not any(
        page.holds("₸") for name in profile_names() for page in load_profile(name).code_pages
    )


def test_the_russian_receipt_line_by_line() -> None:
    lines = receipt_lines(receipt(10_812_50), translator("terminal", "ru"))
    assert lines == RUSSIAN_LINES


def test_the_kazakh_receipt_line_by_line() -> None:
    lines = receipt_lines(receipt(10_812_50), translator("terminal", "kk"))
    assert lines == KAZAKH_LINES


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_discount_line_only_when_the_discount_was_applied(language: str) -> None:
    t = translator("terminal", language)  # type: ignore[arg-type]
    discounted = receipt_lines(receipt(10_812_50), t)
    full = receipt_lines(receipt(21_625_00), t)
    discount = t.text(
        Text("Discounted fine: %(amount)s", amount=paper_money(10_812_50, t.language))
    )
    assert len(discounted) == len(full) + 1
    assert discount in discounted and discount not in full
    paid = t.text(Text("PAID: %(amount)s", amount=paper_money(21_625_00, t.language)))
    assert discounted.index(discount) + 1 == discounted.index(
        t.text(Text("PAID: %(amount)s", amount=paper_money(10_812_50, t.language)))
    )
    assert paid in full


def test_the_agency_is_named_in_the_receipts_language_with_russian_as_fallback() -> None:
    assert agency_name(AGENCY, "kk") == AGENCY["kk"]
    assert agency_name(AGENCY, "en") == AGENCY["ru"]
    assert agency_name("Astana Police", "kk") == "Astana Police"


# --- character tables of real printer profiles ---------------------------------------------


def _profiles_holding(text: str) -> set[str]:
    return {
        name
        for name in profile_names()
        if any(page.holds(text) for page in load_profile(name).code_pages)
    }


def test_only_kz_1048_holds_the_kazakh_letters_in_the_capabilities_database() -> None:
    with_kz1048 = {
        name
        for name, data in CAPABILITIES["profiles"].items()
        if "RK1048" in data.get("codePages", {}).values()
    }
    assert {"default", "TM-T88V", "TM-T20II"} <= with_kz1048
    assert _profiles_holding(KAZAKH_LETTERS) == with_kz1048
    default = load_profile("default")
    assert [(p.number, p.name) for p in default.code_pages if p.holds(KAZAKH_LETTERS)] == [
        (53, "RK1048")
    ]


def test_russian_goes_in_cp866_and_kazakh_in_kz_1048_on_the_default_profile() -> None:
    default = load_profile("default")
    russian = code_page_for("ОПЛАЧЕНО: 10 812,50 KZT", default, None)
    assert russian is not None and (russian.number, russian.name) == (17, "CP866")
    kazakh = code_page_for("ТӨЛЕНДІ: 10 812,50 KZT", default, russian)
    assert kazakh is not None and (kazakh.number, kazakh.name) == (53, "RK1048")
    # a Kazakh line made of letters Russian shares stays in the table already selected
    assert code_page_for("Терминал: T0000042", default, kazakh) == kazakh


def test_a_profile_without_kz_1048_has_no_table_for_a_kazakh_line() -> None:
    epson = load_profile("TM-T88IV")
    assert "RK1048" not in {page.name for page in epson.code_pages}
    assert code_page_for("ТӨЛЕНДІ: 10 812,50 KZT", epson, None) is None
    for letter in KAZAKH_LETTERS:  # its only Cyrillic table is CP866
        assert code_page_for(letter, epson, None) is None, letter
    # a model with CP855 and CP1251 prints І as text, but none of the other eight
    zjiang = load_profile("POS-5890")
    assert [code_page_for(letter, zjiang, None) is None for letter in "ӘҒҚҢӨҰҮҺІ"] == [
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    russian = code_page_for("ОПЛАЧЕНО", epson, None)
    assert russian is not None and russian.name == "CP866"


def test_multi_byte_and_unknown_tables_are_never_chosen() -> None:
    default = load_profile("default")
    names = {page.name for page in default.code_pages}
    assert "CP932" not in names and "Unknown" not in names  # listed by the database
    assert {"CP437", "CP866", "CP1251", "RK1048"} <= names


@pytest.mark.parametrize(
    ("name", "override", "width"),
    [
        ("POS-5890", None, 384),
        ("TM-T88IV", None, 512),
        ("default", None, 384),
        ("default", 576, 576),
    ],
)
def test_paper_width_from_the_configuration_else_the_profile_else_58_mm(
    name: str, override: int | None, width: int
) -> None:
    assert load_profile(name, override).width_px == width


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="TM-T88IV"):
        load_profile("no-such-printer")


def test_ascii_lines_need_no_table() -> None:
    assert is_ascii("RRN: 000000000001") and not is_ascii(f"10{NBSP}812,50 KZT")
    line = TextLine("RRN: 1", None, select=False)
    assert line.command() == b"RRN: 1\n"


# --- the officer's sentences ------------------------------------------------------------------


def test_a_card_error_is_english_in_logs_and_the_officers_language_on_screen() -> None:
    error = CardRemoved()
    assert str(error).startswith("The card was removed before the payment finished")
    assert translator("terminal", "ru").text(error.text).startswith("Карту убрали")
    assert (
        translator("terminal", "kk")
        .text(error.text)
        .startswith("Төлем аяқталмай тұрып карта алынды")
    )


def test_labels_of_states_and_statuses() -> None:
    ru = translator("terminal", "ru")
    kk = translator("terminal", "kk")
    assert ru.text(payment_state(PaymentState.APPROVED)) == "одобрен"
    assert kk.text(payment_state(PaymentState.REVERSED)) == "банкте жойылды"
    assert ru.text(case_status("open")) == "на исполнении"
    assert kk.text(case_status("paid")) == "төленді"
    assert ru.text(case_status("some_new_status")) == "some_new_status"


def test_a_stored_sentence_keeps_its_id_parameters_and_nested_sentences() -> None:
    cause = Text("The card declined the payment: ask for another card. Nothing was charged.")
    outer = Text("%(cause)s The bank confirmed the cancellation: nothing was charged.", cause=cause)
    plural = PluralText("%(n)s payment", "%(n)s payments", 3, n=3)
    for message in (outer, plural, Text("Approved.")):
        stored = encode_message(message)
        assert decode_message(stored) == message
    assert decode_message(encode_message(None)) is None
    assert decode_message("An English sentence from an older journal.") == Text(
        "An English sentence from an older journal."
    )
    ru = translator("terminal", "ru").text(decode_message(encode_message(outer)) or outer)
    assert ru == (
        "Карта отклонила платёж: попросите другую карту. Деньги не списаны."
        " Банк подтвердил отмену: деньги не списаны."
    )


# --- configuration ----------------------------------------------------------------------------

FIELDS = {
    "device_id": "term-patrol-0001",
    "terminal_id": "T0000042",
    "agency": "Police",
    "registry_url": "https://erap.example",
    "data_dir": "/var/lib/erap-terminal",
    "key_path": "/etc/erap/terminal.key",
    "printer_device": "/dev/ttyUSB0",
    "payment_device": "ecr",
    "ecr": {"port": "/dev/ttyACM0"},
}


def test_the_configuration_defaults_to_russian_and_the_default_profile() -> None:
    config = TerminalConfig.model_validate(FIELDS)
    assert config.language == "ru" and config.printer_profile == "default"
    assert config.printer_width_px is None
    kazakh = TerminalConfig.model_validate({**FIELDS, "language": "kk", "agency": AGENCY})
    assert kazakh.language == "kk" and kazakh.agency == AGENCY


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"language": "de"}, "language"),
        ({"printer_profile": "no-such-printer"}, "TM-T88IV"),
        ({"printer_width_px": 380}, "multiple of 8"),
        ({"agency": {"fr": "Police"}}, "agency"),
        ({"agency": ""}, "name the agency"),
    ],
)
def test_bad_language_or_printer_settings_are_refused_by_name(
    override: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        TerminalConfig.model_validate({**FIELDS, **override})
