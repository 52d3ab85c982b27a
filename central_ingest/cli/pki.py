"""``erap-registry pki``: the certificate authority for mutual TLS to the broker. It reads no
registry configuration, so its language is ``--language`` or ``ERAP_LANGUAGE``, else Russian."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from central_ingest.cli.common import cli_translator, refuse, say
from central_ingest.pki import CertificateAuthority, PkiError
from central_ingest.pki_officers import OfficerCa
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
    say(
        reader,
        Text(
            "The certificate authority is written to %(folder)s; keep ca.key offline.",
            folder=str(ca_dir),
        ),
    )


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
    say(
        reader,
        Text(
            "Wrote the certificate %(certificate)s and its key %(key)s.",
            certificate=str(issued.certificate),
            key=str(issued.private_key),
        ),
    )


# The officers' signing certificates: a CA of their own (central_ingest/pki_officers.py).
OfficerCaDir = Annotated[
    Path, typer.Option("--ca-dir", help="The officers' CA folder (ca.crt, ca.key, officers/)")
]


@pki_app.command("officer-init-ca")
def officer_init_ca(
    ca_dir: OfficerCaDir,
    name: Annotated[str, typer.Option(help="The CA's common name")] = "ERAP officers CA",
) -> None:
    """Create the officers' certification authority (once)."""
    reader = cli_translator()
    try:
        OfficerCa.create(ca_dir, name, now_utc())
    except PkiError as exc:
        raise refuse(reader, exc.text, 1) from None
    say(
        reader,
        Text(
            "The officers' certification authority is written to %(folder)s; keep ca.key offline.",
            folder=str(ca_dir),
        ),
    )


@pki_app.command("officer-issue")
def officer_issue(
    ca_dir: OfficerCaDir,
    public_key: Annotated[Path, typer.Option("--public-key", help="The token's public key (PEM)")],
    iin: Annotated[str, typer.Option("--iin", help="The officer's IIN (12 digits)")],
    name: Annotated[str, typer.Option("--name", help="The officer's full name")],
) -> None:
    """Issue an officer's signing certificate for the public key of his token."""
    reader = cli_translator()
    try:
        certificate, path = OfficerCa.load(ca_dir).issue(
            public_key.read_bytes(), iin=iin, name=name, now=now_utc()
        )
    except OSError as exc:
        raise refuse(reader, Text("%(path)s cannot be read.", path=str(exc.filename)), 1) from None
    except PkiError as exc:
        raise refuse(reader, exc.text, 1) from None
    say(
        reader,
        Text(
            "Wrote the certificate %(path)s (serial %(serial)s) for IIN %(iin)s; write it onto the"
            " officer's token beside its key.",
            path=str(path),
            serial=format(certificate.serial_number, "x"),
            iin=iin,
        ),
    )


@pki_app.command("officer-revoke")
def officer_revoke(
    ca_dir: OfficerCaDir,
    serial: Annotated[str, typer.Argument(help="The certificate's serial (hexadecimal)")],
) -> None:
    """Revoke an officer's certificate (token lost, officer dismissed); then publish the CRL."""
    reader = cli_translator()
    try:
        revocation = OfficerCa.load(ca_dir).revoke(serial, now_utc())
    except PkiError as exc:
        raise refuse(reader, exc.text, 1) from None
    say(
        reader,
        Text(
            "The certificate %(serial)s is revoked as of %(date)s; publish the CRL now"
            " ('erap-registry pki officer-crl').",
            serial=serial,
            date=revocation.revoked_at.isoformat(timespec="seconds"),
        ),
    )


@pki_app.command("officer-crl")
def officer_crl(
    ca_dir: OfficerCaDir,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The CRL file; default: officers.crl in the CA folder"),
    ] = None,
) -> None:
    """Sign and publish the officers' certificate revocation list (DER), valid for a day."""
    reader = cli_translator()
    try:
        path = OfficerCa.load(ca_dir).publish_crl(now_utc(), out)
    except PkiError as exc:
        raise refuse(reader, exc.text, 1) from None
    say(reader, Text("Published the revocation list %(path)s.", path=str(path)))
