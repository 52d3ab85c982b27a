"""Amounts as the payer reads them on paper. The registry computes every amount; the terminal
only formats what it was given (tiyn, 1/100 KZT).

On the screen an amount is ``Translator.money`` (``21 625,00 ₸``). On the receipt the tenge sign
gives way to the currency's ISO code, ``21 625,00 KZT``, in the same CLDR number format: the
sign ₸ (U+20B8, 2007) is in no code page a receipt printer holds (CP866, CP1251 and KZ-1048
all predate it), so a line with it could only be printed as an image, slowly over a 9600 baud
link and unreadable if the image is lost; KZT is what the bank's card slip next to the receipt
prints, and what CLDR's own Russian writes for the tenge outside Kazakhstan.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from i18n.formatting import CURRENCY, cldr_locale
from i18n.languages import Language

# The amount, then the ISO code (¤¤) after a no-break space; the grouping and decimal signs
# are the language's (CLDR).
_PAPER_PATTERN = "#,##0.00\u00a0¤¤"


def paper_money(amount_minor: int, language: Language) -> str:
    """``2162500`` -> ``21 625,00 KZT`` (kk, ru; no-break spaces), ``21,625.00 KZT`` (en)."""
    return format_currency(
        Decimal(amount_minor).scaleb(-2),
        CURRENCY,
        format=_PAPER_PATTERN,
        locale=cldr_locale(language),
        currency_digits=True,
    )
