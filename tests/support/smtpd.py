"""The agency's mail relay for the e-mail tests: aiosmtpd, a real SMTP server, in its own
process, offering STARTTLS with the certificate the test made, requiring it before anything
else, and a sign-in (PLAIN/LOGIN) over it.

Recipients at ``--refuse-domain`` get ``550 5.1.1`` (no such mailbox); with ``--busy-first N``
the first N messages get ``451 4.3.0`` (try again later). Every message accepted is written to
``--journal`` as one JSON line (envelope, whether TLS was on, who signed in, the raw message),
and the port is printed as ``LISTENING <port>``.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


class Relay:
    def __init__(self, journal: Path, refuse_domain: str | None, busy_first: int) -> None:
        self.journal = journal
        self.refuse_domain = refuse_domain
        self.busy = busy_first

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.refuse_domain and address.endswith("@" + self.refuse_domain):
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 mailbox busy, try again later"
        content = envelope.content
        raw = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        entry: dict[str, Any] = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "login": session.auth_data,
            "raw": raw,
        }
        with self.journal.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return "250 2.0.0 queued"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--username", default="erap")
    parser.add_argument("--password", required=True)
    parser.add_argument("--refuse-domain")
    parser.add_argument("--busy-first", type=int, default=0)
    args = parser.parse_args(argv)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and (
            data.login.decode() == args.username and data.password.decode() == args.password
        )
        return AuthResult(success=good, handled=False, auth_data=args.username if good else None)

    with socket.socket() as probe:  # a free port for the controller
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        Relay(args.journal, args.refuse_domain, args.busy_first),
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticate,
    )
    controller.start()
    print(f"LISTENING {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
