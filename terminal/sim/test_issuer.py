"""The test issuer shared by the virtual card and the acquirer simulator: a published test
master key (never a real one), EMV option A key derivation and the common session key, and the
data both sides feed into the application cryptogram."""

from __future__ import annotations

from collections.abc import Mapping

from pyemv import ac, kd

ISSUER_MASTER_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
# The terminal data the card takes into its cryptogram (from CDOL1), then the card's own.
AC_INPUT_TAGS = ("9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37", "82", "9F36")


def session_key(pan: str, pan_sequence: str, atc: bytes) -> bytes:
    card_key = kd.derive_icc_mk_a(ISSUER_MASTER_KEY, pan, pan_sequence)
    return kd.derive_common_sk(card_key, atc + b"\xf0\x00" + atc + b"\x0f\x00")


def cryptogram(key: bytes, values: Mapping[str, bytes]) -> bytes:
    data = b"".join(values.get(tag, b"") for tag in AC_INPUT_TAGS)
    return ac.generate_ac(key, data)


def response_cryptogram(key: bytes, arqc: bytes, response_code: str) -> bytes:
    """ARPC method 1 over the ARQC and the authorisation response code."""
    return ac.generate_arpc_1(key, arqc, response_code.encode("ascii"))
