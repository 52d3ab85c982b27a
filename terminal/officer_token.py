"""The officer's personal signing token, reached through PKCS#11 (python-pkcs11).

The officer signs in with his PIN; the terminal finds the signing key and, by the same CKA_ID,
the X.509 certificate the agency's CA issued for it, checks the certificate's dates and IIN
(``terminal.officer_rules``) and proves that key and certificate belong together with one test
signature. The key never leaves the token: the terminal hands it a SHA-256 digest and gets the
signature back.

A token pulled out, or one that stops answering, ends in ``TokenGone`` and nothing signed: the
caller writes a protocol to its journal only with the signature in hand.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pkcs11
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass, TokenFlag
from pkcs11 import exceptions as p11
from pkcs11.util.ec import encode_ecdsa_signature

from contract.officer_certificate import certificate_name
from i18n import Text
from terminal.messages import SpokenError
from terminal.officer_rules import (
    DEFAULT_PIN_LIMIT,
    CertificateRefused,
    TokenGone,
    TokenLocked,
    TokenPinFlags,
    check_certificate,
    locked_text,
    tries_left,
    wrong_pin_error,
)

# What a token that was pulled out (or died) answers, depending on when it went: the slot
# gone, the session or the key's handle invalid, or a general failure of the module.
_GONE = (
    p11.TokenNotPresent,
    p11.DeviceRemoved,
    p11.DeviceError,
    p11.SessionClosed,
    p11.SessionHandleInvalid,
    p11.ObjectHandleInvalid,
    p11.KeyHandleInvalid,
    p11.SlotIDInvalid,
    p11.GeneralError,
)

# What sign-in proves the key and the certificate with: any fixed bytes do.
_PROBE = b"erap officer token sign-in"


def _gone(serial: str) -> TokenGone:
    return TokenGone(
        Text(
            "The signing token %(serial)s was pulled out or stopped answering: nothing was"
            " signed. Insert it and sign in again.",
            serial=serial,
        )
    )


class PinCounter:
    """Wrong PINs in a row per token serial, kept in a small JSON file so that a restart of the
    terminal does not give a guesser new tries. Written atomically (temporary file, rename)."""

    def __init__(self, path: Path, limit: int = DEFAULT_PIN_LIMIT) -> None:
        self.path = path
        self.limit = limit

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            # A damaged file must not unlock a token: count every token as at the limit.
            return {"*": self.limit}
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def wrong(self, serial: str) -> int:
        counts = self._read()
        return max(counts.get(serial, 0), counts.get("*", 0))

    def record_wrong(self, serial: str) -> int:
        counts = self._read()
        counts[serial] = max(counts.get(serial, 0), counts.get("*", 0)) + 1
        self._write(counts)
        return counts[serial]

    def reset(self, serial: str) -> None:
        """After a right PIN, or when the token administrator has unlocked the token."""
        counts = self._read()
        if counts.pop(serial, None) is not None:
            self._write(counts)

    def _write(self, counts: dict[str, int]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=".pin-tries-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(counts, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, self.path)


@dataclass(frozen=True)
class TokenSettings:
    module: Path = Path("/usr/lib/softhsm/libsofthsm2.so")
    token_label: str | None = None
    """None: the only token present."""


class OfficerSession:
    """A signed-in officer: his certificate, his IIN, and signing on his token."""

    def __init__(
        self,
        session: Any,
        key: Any,
        certificate: x509.Certificate,
        iin: str,
        serial: str,
    ) -> None:
        self._session = session
        self._key = key
        self.certificate = certificate
        self.iin = iin
        self.token_serial = serial
        self.name = certificate_name(certificate)

    def sign(self, data: bytes) -> bytes:
        """A SHA-256 signature of ``data`` made on the token: ECDSA as DER (r, s), RSA
        PKCS#1 v1.5. Raises ``TokenGone`` if the token is not there any more."""
        try:
            if self._key.key_type == KeyType.EC:
                raw = self._key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
                return encode_ecdsa_signature(raw)
            return bytes(self._key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
        except _GONE:
            raise _gone(self.token_serial) from None
        except p11.PKCS11Error as exc:
            raise SpokenError(
                Text(
                    "The signing token %(serial)s refused to sign (%(error)s): nothing was signed.",
                    serial=self.token_serial,
                    error=type(exc).__name__,
                )
            ) from None

    def close(self) -> None:
        _close(self._session)


class OfficerToken:
    """The token slot of the terminal: ``sign_in`` opens the officer's session."""

    def __init__(self, settings: TokenSettings, pin_counter: PinCounter) -> None:
        self._settings = settings
        self._counter = pin_counter

    def _token(self) -> Any:
        module = self._settings.module
        if not module.is_file():
            raise SpokenError(
                Text(
                    "The token's PKCS#11 module %(module)s is not installed: the terminal"
                    " cannot read signing tokens (the [token] module setting).",
                    module=str(module),
                )
            )
        try:
            lib = pkcs11.lib(str(module))
            if self._settings.token_label is not None:
                return lib.get_token(token_label=self._settings.token_label)
            return lib.get_token()
        except (p11.NoSuchToken, *_GONE):
            raise SpokenError(
                Text("No signing token is inserted: insert the officer's token and try again.")
            ) from None
        except p11.MultipleTokensReturned:
            raise SpokenError(
                Text("More than one signing token is inserted: leave only the officer's.")
            ) from None

    def sign_in(self, pin: str, now: datetime) -> OfficerSession:
        token = self._token()
        serial = bytes(token.serial).decode("ascii", "replace").strip()
        flags = _pin_flags(token.flags)
        wrong = self._counter.wrong(serial)
        if flags.locked or wrong >= self._counter.limit:
            raise TokenLocked(locked_text(serial))
        try:
            session = token.open(user_pin=pin)
        except p11.PinLocked:
            _close_failed_login(self._settings.module, token)
            raise TokenLocked(locked_text(serial)) from None
        except (p11.PinIncorrect, p11.PinLenRange, p11.PinInvalid):
            _close_failed_login(self._settings.module, token)
            wrong = self._counter.record_wrong(serial)
            after = self._flags_after_failure(token)
            raise wrong_pin_error(serial, tries_left(self._counter.limit, wrong, after)) from None
        except _GONE:
            raise _gone(serial) from None
        self._counter.reset(serial)
        try:
            return self._officer(session, serial, now)
        except BaseException:
            _close(session)
            raise

    def unlock(self, so_pin: str, new_pin: str) -> str:
        """The token administrator's unlock: signed in with the security officer's PIN, he sets
        a new user PIN (C_InitPIN, which clears a real token's lock too), and the terminal's
        count of wrong PINs for this token starts again. Returns the token's serial."""
        token = self._token()
        serial = bytes(token.serial).decode("ascii", "replace").strip()
        try:
            with token.open(rw=True, so_pin=so_pin) as session:
                session.init_pin(new_pin)
        except p11.SessionReadOnlyExists:
            raise SpokenError(
                Text(
                    "The token %(serial)s is in use (an officer is signed in on it): sign out"
                    " first, then unlock it.",
                    serial=serial,
                )
            ) from None
        except p11.PinIncorrect:
            _close_failed_login(self._settings.module, token)
            raise SpokenError(
                Text(
                    "The security officer's PIN of the token %(serial)s is wrong: the officer's"
                    " PIN was not reset.",
                    serial=serial,
                )
            ) from None
        except p11.PinLocked:
            raise TokenLocked(
                Text(
                    "The security officer's PIN of the token %(serial)s is locked too: the"
                    " token goes back to the agency's certification centre.",
                    serial=serial,
                )
            ) from None
        except (p11.PinLenRange, p11.PinInvalid):
            raise SpokenError(
                Text(
                    "The token %(serial)s does not accept this new PIN (its length or"
                    " characters): choose another.",
                    serial=serial,
                )
            ) from None
        except _GONE:
            raise _gone(serial) from None
        self._counter.reset(serial)
        return serial

    def _flags_after_failure(self, token: Any) -> TokenPinFlags:
        try:
            return _pin_flags(token.flags)
        except p11.PKCS11Error:
            return TokenPinFlags()

    def _officer(self, session: Any, serial: str, now: datetime) -> OfficerSession:
        try:
            keys = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
            signing = [key for key in keys if _can_sign(key)]
            if len(signing) != 1:
                raise SpokenError(
                    Text(
                        "The token %(serial)s holds %(count)d signing keys; an officer's token"
                        " holds exactly one.",
                        serial=serial,
                        count=len(signing),
                    )
                )
            key = signing[0]
            key_id = key[Attribute.ID]
            certificates = list(
                session.get_objects(
                    {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: key_id}
                )
            )
            if len(certificates) != 1:
                raise CertificateRefused(
                    Text(
                        "The token %(serial)s holds no certificate for its signing key: the"
                        " agency's certification centre must write it onto the token.",
                        serial=serial,
                    )
                )
            certificate = x509.load_der_x509_certificate(bytes(certificates[0][Attribute.VALUE]))
        except _GONE:
            raise _gone(serial) from None
        iin = check_certificate(certificate, now)
        officer = OfficerSession(session, key, certificate, iin, serial)
        if not _belongs(certificate, officer.sign(_PROBE)):
            raise CertificateRefused(
                Text(
                    "The certificate on the token %(serial)s is not the one of its key:"
                    " signatures would not verify. The certification centre must rewrite it.",
                    serial=serial,
                )
            )
        return officer


def _close_failed_login(module: Path, token: Any) -> None:
    """python-pkcs11 0.10.1 opens a session, then logs in, and leaves the session open when the
    login fails: a terminal would gather one per wrong PIN, and the administrator's unlock
    (which needs no read-only session on the token) would be refused. Close the token's
    sessions through the module's own C_CloseAllSessions: ctypes gets the library that is
    already loaded, so the call reaches the same sessions. No officer is signed in on this
    token at that moment (his sign-in just failed)."""
    with contextlib.suppress(OSError, AttributeError, p11.PKCS11Error):
        close_all = ctypes.CDLL(str(module)).C_CloseAllSessions
        close_all.argtypes = [ctypes.c_ulong]
        close_all.restype = ctypes.c_ulong
        close_all(token.slot.slot_id)


def _pin_flags(flags: Any) -> TokenPinFlags:
    return TokenPinFlags(
        count_low=bool(flags & TokenFlag.USER_PIN_COUNT_LOW),
        final_try=bool(flags & TokenFlag.USER_PIN_FINAL_TRY),
        locked=bool(flags & TokenFlag.USER_PIN_LOCKED),
    )


def _can_sign(key: Any) -> bool:
    try:
        return bool(key[Attribute.SIGN])
    except p11.AttributeTypeInvalid:
        return True


def _belongs(certificate: x509.Certificate, signature: bytes) -> bool:
    public = certificate.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, _PROBE, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, _PROBE, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _close(session: Any) -> None:
    with contextlib.suppress(p11.PKCS11Error):  # a pulled token has no session left to close
        session.close()
