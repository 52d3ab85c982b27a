"""The officers' revocation list as this terminal last fetched it from the registry, so that
a revoked certificate is refused at sign-in with a sentence saying so, even with the network
down since (the registry checks every protocol against its current list anyway: this is the
early refusal at the roadside, not the rule).

The list is fetched at start-up and at each sign-in when the link is up (``GET
/v1/pki/officers.crl``, public) and kept in the data directory. A list from another CA than
the certificate's says nothing about it; no list yet refuses nothing.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import httpx
from cryptography import x509

from i18n import Text
from terminal.officer_rules import CertificateRefused

log = logging.getLogger(__name__)

CRL_PATH = "/v1/pki/officers.crl"
CRL_FILE = "officers.crl"
FETCH_TIMEOUT_S = 3.0  # a sign-in must not wait on a slow mobile link: the kept list serves


class OfficerRevocations:
    def __init__(self, http: httpx.Client, folder: Path) -> None:
        self._http = http
        self.path = folder / CRL_FILE

    def refresh(self) -> bool:
        """Fetch the registry's current list; False (and the kept one stays) when it cannot."""
        try:
            answer = self._http.get(CRL_PATH, timeout=FETCH_TIMEOUT_S)
        except httpx.HTTPError as exc:
            log.info("the officers' CRL was not fetched: %s", exc)
            return False
        if answer.status_code != 200:
            return False
        try:
            x509.load_der_x509_crl(answer.content)
        except ValueError:
            log.warning("the registry's officers' CRL is not a DER CRL: the kept one stays")
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=".officers-crl-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(answer.content)
        os.replace(name, self.path)
        return True

    def check(self, certificate: x509.Certificate) -> None:
        """Raises ``CertificateRefused`` if the kept list revokes ``certificate``."""
        try:
            crl = x509.load_der_x509_crl(self.path.read_bytes())
        except (OSError, ValueError):
            return
        if crl.issuer != certificate.issuer:
            return
        revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if revoked is not None:
            raise CertificateRefused(
                Text(
                    "The certificate on the token (serial %(serial)s) was revoked on %(date)s:"
                    " the officer cannot sign with it. Ask the agency's certification centre.",
                    serial=format(certificate.serial_number, "x"),
                    date=revoked.revocation_date_utc.strftime("%Y-%m-%d %H:%M UTC"),
                )
            )
