"""Signing a roadside protocol on the terminal: the officer's token, then the device's seal.

The officer signs the protocol's canonical form (a CMS detached signature made on his token,
``contract.cms``); the terminal seals the signed protocol into a device envelope like every
message it sends. The envelope exists only once both signatures are made: a token pulled
mid-signature raises before anything is returned, so nothing half-signed reaches the journal.
"""

from __future__ import annotations

from datetime import datetime

from contract import DeviceKey, MessageKind, SignedEnvelope, seal
from contract.cms import sign_detached
from contract.roadside import RoadsideProtocol, SignedRoadsideProtocol, protocol_signed_bytes
from contract.signing import b64url
from i18n import Text
from terminal.messages import SpokenError
from terminal.officer_token import OfficerSession


def sign_protocol(
    protocol: RoadsideProtocol,
    officer: OfficerSession,
    *,
    device_id: str,
    device_key: DeviceKey,
    now: datetime,
) -> SignedEnvelope:
    """The protocol signed by the signed-in officer and sealed by this terminal."""
    if protocol.officer_iin != officer.iin:
        raise SpokenError(
            Text(
                "The protocol names officer %(named)s, but the token signed in is %(signer)s:"
                " only the officer who draws it up signs it.",
                named=protocol.officer_iin,
                signer=officer.iin,
            )
        )
    cms = sign_detached(protocol_signed_bytes(protocol), officer.certificate, officer.sign, now)
    body = SignedRoadsideProtocol(protocol=protocol, officer_cms=b64url(cms))
    return seal(MessageKind.ROADSIDE_PROTOCOL, device_id, body, device_key, sent_at=now)
