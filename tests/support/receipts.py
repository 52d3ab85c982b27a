"""One paid fine's receipt data and its lines as the terminal lays them out in Russian and in
Kazakh: the unit tests check the layout against these lines, the printer tests that the same
lines reach the paper."""

from __future__ import annotations

from datetime import UTC, datetime

from i18n import Text
from terminal.receipt import Agency, ReceiptData

NBSP = "\u00a0"
CASE_URL = "https://erap.kz/cases/KZ-GP-2026-0000001"
AGENCY: Agency = {
    "kk": "Астана қаласы Полиция департаменті",
    "ru": "Департамент полиции города Астаны",
}
FULL_MINOR = 21_625_00
DISCOUNTED_MINOR = 10_812_50


def sample_receipt(amount_minor: int = DISCOUNTED_MINOR, agency: Agency = AGENCY) -> ReceiptData:
    return ReceiptData(
        agency=agency,
        terminal_id="T0000042",
        paid_at=datetime(2026, 11, 22, 19, 30, tzinfo=UTC),  # 00:30 next day in Astana
        masked_pan="476173******0010",
        scheme="visa",
        aid="A0000000031010",
        amount_minor=amount_minor,
        approval_code="123456",
        rrn="000000000001",
        stan="000007",
        case_number="KZ-GP-2026-0000001",
        legal_basis=Text("CoAO RK art. %(article)s part %(part)s", article="592", part="1"),
        full_minor=FULL_MINOR,
        discounted_minor=DISCOUNTED_MINOR,
        case_url=CASE_URL,
    )


# The discounted payment of sample_receipt(), as laid out; the QR code follows the last line.
RUSSIAN_LINES = [
    "Департамент полиции города Астаны",
    "ОПЛАТА АДМИНИСТРАТИВНОГО ШТРАФА",
    "Терминал: T0000042",
    "Время: 23.11.2026 00:30:00 (время Астаны)",
    "Дело: KZ-GP-2026-0000001",
    "Основание: ч. 1 ст. 592 КоАП РК",
    f"Сумма штрафа: 21{NBSP}625,00{NBSP}KZT",
    f"Штраф со скидкой: 10{NBSP}812,50{NBSP}KZT",
    f"ОПЛАЧЕНО: 10{NBSP}812,50{NBSP}KZT",
    "Карта: VISA 476173******0010",
    "AID: A0000000031010",
    "Код авторизации: 123456",
    "RRN: 000000000001",
    "STAN: 000007",
    "Отсканируйте, чтобы открыть дело:",
]
KAZAKH_LINES = [
    "Астана қаласы Полиция департаменті",
    "ӘКІМШІЛІК АЙЫППҰЛДЫ ТӨЛЕУ",
    "Терминал: T0000042",
    "Уақыты: 23.11.2026 00:30:00 (Астана уақыты)",
    "Іс: KZ-GP-2026-0000001",
    "Негіздеме: ӘҚБтК 592-бабының 1-бөлігі",
    f"Айыппұл сомасы: 21{NBSP}625,00{NBSP}KZT",
    f"Жеңілдікпен төленетін айыппұл: 10{NBSP}812,50{NBSP}KZT",
    f"ТӨЛЕНДІ: 10{NBSP}812,50{NBSP}KZT",
    "Карта: VISA 476173******0010",
    "AID: A0000000031010",
    "Авторизация коды: 123456",
    "RRN: 000000000001",
    "STAN: 000007",
    "Істі ашу үшін сканерлеңіз:",
]
