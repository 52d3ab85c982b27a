"""The officer's signing token on the terminal and the registry's checks of his protocols, with
Debian's SoftHSM2 as a real PKCS#11 token: keys generated on the token, certificates from an
agency CA made here, the protocol signed on the token as a CMS detached signature and sealed
by the terminal's device key, then verified as the registry does (and by OpenSSL)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from central_ingest.core.roadside import (
    OfficerTrust,
    ProtocolRefused,
    ProtocolRejection,
    VerifiedProtocol,
    verify_roadside_protocol,
)
from contract import DeviceKey, SignedEnvelope, load_public_key
from contract.roadside import (
    DriverSignature,
    ProtocolOutcome,
    ProtocolPlace,
    RoadsideProtocol,
    protocol_signed_bytes,
)
from contract.signing import b64url_decode, canonical_json
from i18n import translator
from terminal.officer_rules import CertificateRefused, TokenGone, TokenLocked, WrongPin
from terminal.officer_token import OfficerSession, OfficerToken, PinCounter, TokenSettings
from terminal.protocol_signing import sign_protocol
from tests.support.officer_pki import (
    SO_PIN,
    SOFTHSM_MODULE,
    AgencyCa,
    SoftHsm,
    softhsm,
    valid_iin,
)

NOW = datetime.now(UTC).replace(microsecond=0)
PIN = "482915"
DEVICE = "terminal-ast-007"


@pytest.fixture(scope="module")
def hsm() -> SoftHsm:
    return softhsm()


@pytest.fixture(scope="module")
def agency() -> AgencyCa:
    return AgencyCa.create("ERAP officers CA", NOW)


@pytest.fixture(scope="module")
def device_key() -> DeviceKey:
    return DeviceKey.generate()


_labels = iter(range(10_000))


def _token(
    hsm: SoftHsm,
    ca: AgencyCa,
    *,
    iin: str | None = None,
    not_before: datetime = NOW - timedelta(days=30),
    not_after: datetime = NOW + timedelta(days=365),
) -> tuple[str, str]:
    label = f"officer-{next(_labels)}"
    officer_iin = iin or valid_iin()
    hsm.officer_token(
        label,
        PIN,
        ca,
        iin=officer_iin,
        name="Серік Оспанов",
        not_before=not_before,
        not_after=not_after,
    )
    return label, officer_iin


def _reader(label: str, tmp_path: Path, limit: int = 10) -> OfficerToken:
    return OfficerToken(
        TokenSettings(SOFTHSM_MODULE, label), PinCounter(tmp_path / "pin-tries.json", limit)
    )


@pytest.fixture()
def signed_in(hsm: SoftHsm, agency: AgencyCa, tmp_path: Path) -> Iterator[OfficerSession]:
    label, _ = _token(hsm, agency)
    officer = _reader(label, tmp_path).sign_in(PIN, NOW)
    yield officer
    officer.close()


def _protocol(officer_iin: str, **changes: object) -> RoadsideProtocol:
    fields: dict[str, object] = {
        "protocol_id": uuid4(),
        "protocol_number": "KZ-AST-0000417",
        "officer_iin": officer_iin,
        "plate": "123ABC01",
        "person_iin": "791028302728",
        "article": "592",
        "part": 1,
        "outcome": ProtocolOutcome.FINE,
        "amount_minor": 1_966_000,
        "place": ProtocolPlace(lat=51.128, lon=71.430, manual=False),
        "drawn_up_at": NOW,
        "description": "Превышение скорости на 25 км/ч, пр. Кабанбай батыра",
        "driver_explanation": "Торопился",
        "driver_signature": DriverSignature.REFUSED,
    }
    fields.update(changes)
    return RoadsideProtocol.model_validate(fields)


def _verify(
    envelope: SignedEnvelope,
    device_key: DeviceKey,
    agency: AgencyCa,
    *,
    active: set[str] | None = None,
    revoked: list[x509.Certificate] | None = None,
    document: dict[str, object] | None = None,
    crls: bool = True,
) -> VerifiedProtocol:
    revocations = [(c, NOW - timedelta(hours=1)) for c in revoked or []]
    trust = OfficerTrust(
        anchors=(agency.certificate,), crls=(agency.crl(revocations, NOW),) if crls else ()
    )
    iin = envelope.body["protocol"]["officer_iin"]
    return verify_roadside_protocol(
        document or envelope.model_dump(mode="json"),
        device_key=load_public_key(device_key.public_key_b64),
        trust=trust,
        is_active_officer=lambda candidate: candidate in (active if active is not None else {iin}),
        now=NOW,
    )


def _sign(officer: OfficerSession, device_key: DeviceKey, **changes: object) -> SignedEnvelope:
    return sign_protocol(
        _protocol(officer.iin, **changes),
        officer,
        device_id=DEVICE,
        device_key=device_key,
        now=NOW,
    )


def test_a_protocol_signed_on_the_token_verifies_in_the_registry_and_in_openssl(
    signed_in: OfficerSession, device_key: DeviceKey, agency: AgencyCa, tmp_path: Path
) -> None:
    envelope = _sign(signed_in, device_key)
    verified = _verify(envelope, device_key, agency)
    assert verified.officer_iin == signed_in.iin
    assert verified.certificate_serial == signed_in.certificate.serial_number
    assert verified.signed_at == NOW
    assert verified.protocol.amount_minor == 1_966_000
    assert envelope.message_id == verified.protocol.protocol_id

    # An independent verifier: OpenSSL checks the CMS, the detached content and the chain.
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    (tmp_path / "p.json").write_bytes(protocol_signed_bytes(envelope.body["protocol"]))
    (tmp_path / "p.cms").write_bytes(b64url_decode(envelope.body["officer_cms"]))
    (tmp_path / "ca.pem").write_bytes(agency.certificate.public_bytes(Encoding.PEM))
    args = [
        openssl,
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "p.cms",
        "-CAfile",
        "ca.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ]
    ok = subprocess.run([*args, "-content", "p.json"], cwd=tmp_path, capture_output=True)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "q.json").write_bytes(protocol_signed_bytes(envelope.body["protocol"])[:-1] + b" }")
    bad = subprocess.run([*args, "-content", "q.json"], cwd=tmp_path, capture_output=True)
    assert bad.returncode != 0


def test_a_warning_with_a_manual_address_and_the_drivers_signature_verifies(
    signed_in: OfficerSession, device_key: DeviceKey, agency: AgencyCa
) -> None:
    envelope = _sign(
        signed_in,
        device_key,
        outcome=ProtocolOutcome.WARNING,
        amount_minor=None,
        person_iin=None,
        place=ProtocolPlace(address="Астана, пр. Республики 5", manual=True),
        driver_signature=DriverSignature.SIGNED,
        driver_signature_sha256="ab" * 32,
    )
    verified = _verify(envelope, device_key, agency)
    assert verified.protocol.outcome is ProtocolOutcome.WARNING
    assert verified.protocol.place.manual


def _refusal(excinfo: pytest.ExceptionInfo[ProtocolRefused]) -> ProtocolRejection:
    return excinfo.value.reason


def test_a_revoked_certificate_another_ca_or_an_inactive_officer_is_refused(
    hsm: SoftHsm, agency: AgencyCa, device_key: DeviceKey, tmp_path: Path
) -> None:
    """The issue's must-show: each refused with its own reason and sentence."""
    label, _ = _token(hsm, agency)
    officer = _reader(label, tmp_path).sign_in(PIN, NOW)
    envelope = _sign(officer, device_key)
    with pytest.raises(ProtocolRefused) as revoked:
        _verify(envelope, device_key, agency, revoked=[officer.certificate])
    assert _refusal(revoked) is ProtocolRejection.CERTIFICATE_REVOKED
    assert format(officer.certificate.serial_number, "x") in revoked.value.message
    assert "отозван" in translator("registry", "ru").text(revoked.value.text)
    officer.close()

    other_ca = AgencyCa.create("ERAP officers CA", NOW)  # the same name, another key
    label, _ = _token(hsm, other_ca)
    foreign = _reader(label, tmp_path).sign_in(PIN, NOW)
    with pytest.raises(ProtocolRefused) as untrusted:
        _verify(_sign(foreign, device_key), device_key, agency)
    assert _refusal(untrusted) is ProtocolRejection.CERTIFICATE_UNTRUSTED
    assert "not issued by the agency" in untrusted.value.message
    foreign.close()

    label, _ = _token(hsm, agency)
    stranger = _reader(label, tmp_path).sign_in(PIN, NOW)
    with pytest.raises(ProtocolRefused) as inactive:
        _verify(_sign(stranger, device_key), device_key, agency, active={valid_iin()})
    assert _refusal(inactive) is ProtocolRejection.NOT_AN_ACTIVE_OFFICER
    assert stranger.iin in inactive.value.message
    stranger.close()


def test_tampering_and_missing_revocation_data_are_refused_with_their_reasons(
    signed_in: OfficerSession, device_key: DeviceKey, agency: AgencyCa
) -> None:
    envelope = _sign(signed_in, device_key)
    document = envelope.model_dump(mode="json")

    # The amount changed after the officer signed, and the message sealed again: the device
    # signature holds, the officer's does not.
    body = {**document["body"], "protocol": {**document["body"]["protocol"], "amount_minor": 1}}
    resealed = _reseal({**document, "body": body}, device_key)
    with pytest.raises(ProtocolRefused) as changed:
        _verify(envelope, device_key, agency, document=resealed)
    assert _refusal(changed) is ProtocolRejection.OFFICER_SIGNATURE_INVALID

    # Changed on the way, not sealed again: the device signature fails first.
    with pytest.raises(ProtocolRefused) as unsealed:
        _verify(envelope, device_key, agency, document={**document, "body": body})
    assert _refusal(unsealed) is ProtocolRejection.BAD_DEVICE_SIGNATURE

    with pytest.raises(ProtocolRefused) as unknown:
        _verify(envelope, device_key, agency, crls=False)
    assert _refusal(unknown) is ProtocolRejection.REVOCATION_UNKNOWN


def _reseal(document: dict[str, object], key: DeviceKey) -> dict[str, object]:
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    return {**unsigned, "signature": key.sign(canonical_json(unsigned))}


def test_the_protocol_of_another_officer_is_not_signed(
    signed_in: OfficerSession, device_key: DeviceKey
) -> None:
    other = valid_iin()
    with pytest.raises(Exception) as refused:
        sign_protocol(_protocol(other), signed_in, device_id=DEVICE, device_key=device_key, now=NOW)
    assert other in str(refused.value) and signed_in.iin in str(refused.value)


def test_sign_in_reads_the_officers_certificate_and_iin(
    hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    iin = valid_iin()
    label, _ = _token(hsm, agency, iin=iin)
    officer = _reader(label, tmp_path).sign_in(PIN, NOW)
    assert officer.iin == iin
    assert officer.name == "Серік Оспанов"
    officer.close()


def test_wrong_pins_count_down_then_lock_even_after_a_restart(
    hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    label, _ = _token(hsm, agency)
    with pytest.raises(WrongPin) as first:
        _reader(label, tmp_path, limit=3).sign_in("000000", NOW)
    assert first.value.tries_left == 2
    assert "2 tries left" in str(first.value)
    with pytest.raises(WrongPin) as second:
        _reader(label, tmp_path, limit=3).sign_in("111111", NOW)  # a new terminal process
    assert second.value.tries_left == 1
    assert "1 try left" in str(second.value)
    ru = translator("terminal", "ru").text(second.value.text)
    assert ru != str(second.value) and "1" in ru
    with pytest.raises(TokenLocked) as locked:
        _reader(label, tmp_path, limit=3).sign_in("222222", NOW)
    assert "locked" in str(locked.value) and "administrator" in str(locked.value)
    # Locked means locked: the right PIN does not open it on this terminal either.
    with pytest.raises(TokenLocked):
        _reader(label, tmp_path, limit=3).sign_in(PIN, NOW)
    # The administrator's unlock clears the count; the right PIN then signs in.
    PinCounter(tmp_path / "pin-tries.json", 3).reset(_serial(label))
    _reader(label, tmp_path, limit=3).sign_in(PIN, NOW).close()


def _serial(label: str) -> str:
    import pkcs11

    token = pkcs11.lib(str(SOFTHSM_MODULE)).get_token(token_label=label)
    return bytes(token.serial).decode("ascii").strip()


def test_a_right_pin_resets_the_count(hsm: SoftHsm, agency: AgencyCa, tmp_path: Path) -> None:
    label, _ = _token(hsm, agency)
    with pytest.raises(WrongPin):
        _reader(label, tmp_path, limit=3).sign_in("000000", NOW)
    _reader(label, tmp_path, limit=3).sign_in(PIN, NOW).close()
    with pytest.raises(WrongPin) as again:
        _reader(label, tmp_path, limit=3).sign_in("000000", NOW)
    assert again.value.tries_left == 2


def test_an_expired_or_not_yet_valid_certificate_refuses_sign_in_saying_which_and_when(
    hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    expiry = NOW - timedelta(days=2)
    label, _ = _token(hsm, agency, not_before=NOW - timedelta(days=400), not_after=expiry)
    with pytest.raises(CertificateRefused) as expired:
        _reader(label, tmp_path).sign_in(PIN, NOW)
    assert "expired on " + expiry.strftime("%Y-%m-%d %H:%M") in str(expired.value)
    kk = translator("terminal", "kk").text(expired.value.text)
    assert kk != str(expired.value) and expiry.strftime("%Y-%m-%d") in kk

    start = NOW + timedelta(days=3)
    label, _ = _token(hsm, agency, not_before=start, not_after=NOW + timedelta(days=400))
    with pytest.raises(CertificateRefused) as early:
        _reader(label, tmp_path).sign_in(PIN, NOW)
    assert "valid only from " + start.strftime("%Y-%m-%d %H:%M") in str(early.value)


def test_a_token_pulled_before_signing_gives_a_clear_error_and_no_envelope(
    hsm: SoftHsm, agency: AgencyCa, device_key: DeviceKey, tmp_path: Path
) -> None:
    label, _ = _token(hsm, agency)
    officer = _reader(label, tmp_path).sign_in(PIN, NOW)
    hsm.pull(label)
    envelopes: list[SignedEnvelope] = []
    with pytest.raises(TokenGone) as gone:
        envelopes.append(_sign(officer, device_key))
    assert envelopes == []
    assert "pulled out" in str(gone.value) and "nothing was signed" in str(gone.value)
    officer.close()
    with pytest.raises(Exception) as absent:
        _reader(label, tmp_path).sign_in(PIN, NOW)
    assert "No signing token is inserted" in str(absent.value)


def test_the_cms_carries_the_officers_certificate(
    signed_in: OfficerSession, device_key: DeviceKey
) -> None:
    envelope = _sign(signed_in, device_key)
    der = signed_in.certificate.public_bytes(Encoding.DER)
    assert der in base64.urlsafe_b64decode(envelope.body["officer_cms"] + "==")


def _config(tmp_path: Path, label: str, language: str, module: Path = SOFTHSM_MODULE) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(
        f'device_id = "{DEVICE}"\nterminal_id = "T0000042"\nagency = "Police"\n'
        f'language = "{language}"\nregistry_url = "http://127.0.0.1:9"\n'
        f'data_dir = "{tmp_path / "data"}"\nkey_path = "{tmp_path / "device.key"}"\n'
        'printer_device = "/dev/null"\npayment_device = "ecr"\n'
        '[ecr]\nport = "loop://"\n'
        f'[token]\nmodule = "{module}"\nlabel = "{label}"\npin_tries = 3\n',
        encoding="utf-8",
    )
    return path


def test_the_sign_in_command_shows_the_officer_or_says_why_not_in_his_language(
    hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from terminal.cli import app

    label, iin = _token(hsm, agency)
    runner = CliRunner()
    ok = runner.invoke(
        app, ["sign-in", "--config", str(_config(tmp_path, label, "en"))], input=f"{PIN}\n"
    )
    assert ok.exit_code == 0, ok.output
    assert f"Signed in: Серік Оспанов, IIN {iin}" in ok.output
    assert PIN not in ok.output  # the PIN is read hidden, never echoed

    wrong = runner.invoke(
        app, ["sign-in", "--config", str(_config(tmp_path, label, "ru"))], input="999999\n"
    )
    assert wrong.exit_code == 1
    assert "Неверный PIN-код: до блокировки токена осталось 2 попытки." in wrong.output
    # The count is kept in the terminal's data folder: the next run goes on from it.
    again = runner.invoke(
        app, ["sign-in", "--config", str(_config(tmp_path, label, "kk"))], input="999998\n"
    )
    assert "1 әрекет қалды" in " ".join(again.output.split())
    assert "Қол қою токенінің PIN-коды" in again.output

    missing = runner.invoke(
        app,
        ["sign-in", "--config", str(_config(tmp_path, label, "en", tmp_path / "none.so"))],
        input=f"{PIN}\n",
    )
    assert missing.exit_code == 1
    assert "none.so is not installed" in " ".join(missing.output.split())


def test_the_token_administrator_unlocks_a_locked_token_with_the_so_pin(
    hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from terminal.cli import app

    label, iin = _token(hsm, agency)
    config = _config(tmp_path, label, "en")
    runner = CliRunner()
    for attempt in ("000001", "000002", "000003"):
        runner.invoke(app, ["sign-in", "--config", str(config)], input=f"{attempt}\n")
    locked = runner.invoke(app, ["sign-in", "--config", str(config)], input=f"{PIN}\n")
    assert locked.exit_code == 1 and "is locked" in locked.output

    wrong_so = runner.invoke(
        app, ["unlock-token", "--config", str(config)], input="11111111\n135790\n135790\n"
    )
    assert wrong_so.exit_code == 1
    assert "security officer's PIN" in wrong_so.output and "was not reset" in wrong_so.output
    differ = runner.invoke(
        app, ["unlock-token", "--config", str(config)], input=f"{SO_PIN}\n135790\n135791\n"
    )
    assert differ.exit_code == 1 and "differ" in differ.output
    still = runner.invoke(app, ["sign-in", "--config", str(config)], input=f"{PIN}\n")
    assert "is locked" in still.output

    unlocked = runner.invoke(
        app, ["unlock-token", "--config", str(config)], input=f"{SO_PIN}\n135790\n135790\n"
    )
    assert unlocked.exit_code == 0, unlocked.output
    assert "unlocked with the new PIN" in unlocked.output
    assert "135790" not in unlocked.output
    old = runner.invoke(app, ["sign-in", "--config", str(config)], input=f"{PIN}\n")
    assert old.exit_code == 1 and "2 tries left" in old.output
    new = runner.invoke(app, ["sign-in", "--config", str(config)], input="135790\n")
    assert new.exit_code == 0 and iin in new.output
