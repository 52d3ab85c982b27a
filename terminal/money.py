"""Amounts as the payer reads them. The registry computes every amount; the terminal only
formats what it was given (tiyn, 1/100 KZT)."""

from __future__ import annotations


def format_kzt(amount_minor: int) -> str:
    """12 345.50 KZT: a space between thousands, always two decimals."""
    tenge, tiyn = divmod(amount_minor, 100)
    return f"{tenge:,}".replace(",", " ") + f".{tiyn:02d} KZT"
