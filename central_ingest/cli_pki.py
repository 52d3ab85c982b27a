"""``erap-registry pki``: the certificate authority for mutual TLS to the broker. It reads no
registry configuration, so its language is ``--language`` or ``ERAP_LANGUAGE``, else Russian."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from central_ingest.cli_common import cli_translator, refuse, say
from central_ingest.pki import CertificateAuthority, PkiError
from contract import now_utc
from i18n import Text

pki_app = typer.Typer(
    help="Certificates for mutual TLS to the MQTT broker: CA, broker, devices, services.",
    no_args_is_help=True,
)

CaDir = Annotated[Path, typer.Option("--ca-dir", help="Folder holding ca.crt and ca.key")]
OutDir = Annotated[
    Path | None, typer.Option("--out", help="Where to write the certificate and key")
]


@pki_app.command("init-ca")
def init_ca(
    ca_dir: CaDir,
    name: Annotated[str, typer.Option(help="The CA's common name")] = "ERAP fleet CA",
) -> None:
    """Create the certificate authority (once: replacing it invalidates every device)."""
    reader = cli_translator()
    try:
        CertificateAuthority.create(ca_dir, name, now_utc())
    except PkiError as exc:
        raise refuse(reader, exc.text, 1) from None
    say(reader, Text(
        "The certificate authority is written to %(folder)s; keep ca.key offline.",
        folder=str(ca_dir),
    ))


@pki_app.command("issue")
def issue(
    common_name: Annotated[
        str, typer.Argument(help="Device id or service name, e.g. central-ingest-1")
    ],
    ca_dir: CaDir,
    out: OutDir = None,
    server_name: Annotated[
        list[str] | None,
        typer.Option("--server-name", help="For the broker: a DNS name or IP it is reached by"),
    ] = None,
) -> None:
    """Issue a client certificate (CN = device id) or, with --server-name, the broker's."""
    reader = cli_translator()
    try:
        issued = CertificateAuthority.load(ca_dir).issue(
            out or ca_dir, common_name, now_utc(), server_names=tuple(server_name or ())
        )
    except PkiError as exc:
        raise refuse(reader, exc.text, 1) from None
    say(reader, Text(
        "Wrote the certificate %(certificate)s and its key %(key)s.",
        certificate=str(issued.certificate), key=str(issued.private_key),
    ))
