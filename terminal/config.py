"""The terminal's configuration (TOML) and its loading: the payment device is either this
terminal's EMV kernel with the acquirer over mutual TLS (``emv``; the TLS files are checked at
load) or the bank's POS over ECR (``ecr``);
the officer's language (``language``, also the receipt's unless the payer picks one); the
receipt printer's model (``printer_profile``, from python-escpos's capabilities database).
The objects it selects are built in ``terminal.wiring``."""

from __future__ import annotations

import os
import ssl
import tomllib
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contract.config_file import ConfigError, load_toml
from i18n import FALLBACK_LANGUAGE, Language, language_or_none
from terminal.acquirer_link import AcquirerTls, client_context
from terminal.paper import profile_names
from terminal.roadside.settings import RoadsideSettings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Plain TCP to the acquirer sends the card number and track 2 in clear: the configuration may
# ask for it only where this variable is set to 1, which no unit in deploy/ does, so a test
# bench's file copied into a car stops the terminal instead of exposing card data.
PLAIN_TCP_TESTS_ENV = "ERAP_TERMINAL_TESTS_ALLOW_PLAIN_ACQUIRER"


class EmvSettings(_Section):
    reader: str = Field(description="PC/SC reader name, or the start of it")
    acquirer_host: str
    acquirer_port: int = Field(gt=0, lt=65536)
    acquirer_timeout_s: float = Field(default=30.0, gt=0)
    merchant_id: str = Field(min_length=15, max_length=15)
    acquirer_ca_file: Path | None = Field(
        default=None, description="the acquirer's CA certificate (PEM), the only one trusted"
    )
    acquirer_server_name: str | None = Field(
        default=None, description="the name in the acquirer's certificate; default: the host"
    )
    client_cert_file: Path | None = Field(default=None, description="this terminal's (PEM)")
    client_key_file: Path | None = Field(default=None, description="its private key (PEM)")
    acquirer_insecure_plain_tcp: bool = Field(
        default=False, description=f"TESTS ONLY, and only with {PLAIN_TCP_TESTS_ENV}=1"
    )

    @model_validator(mode="after")
    def _tls_unless_testing(self) -> Self:
        if self.acquirer_insecure_plain_tcp:
            if os.environ.get(PLAIN_TCP_TESTS_ENV) != "1":
                raise ValueError(
                    "acquirer_insecure_plain_tcp sends card numbers in clear and is for tests"
                    f" only: remove it (it is accepted only with {PLAIN_TCP_TESTS_ENV}=1)"
                )
            return self
        missing = [
            name
            for name in ("acquirer_ca_file", "client_cert_file", "client_key_file")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(
                f"the link to the acquirer is mutual TLS: set {', '.join(missing)} (the"
                " acquirer's CA certificate, this terminal's certificate and key, PEM)"
            )
        return self

    def acquirer_tls(self) -> AcquirerTls | None:
        """None: plain TCP (tests only, checked above)."""
        if self.acquirer_insecure_plain_tcp:
            return None
        assert self.acquirer_ca_file and self.client_cert_file and self.client_key_file
        return AcquirerTls(
            ca_file=self.acquirer_ca_file,
            cert_file=self.client_cert_file,
            key_file=self.client_key_file,
            server_name=self.acquirer_server_name or self.acquirer_host,
        )


class EcrSettings(_Section):
    port: str = Field(description="serial device or pyserial URL of the bank's POS")
    baudrate: int = 115200
    answer_timeout_s: float = Field(default=120.0, gt=0)


class TokenSection(_Section):
    """The officer's signing token (terminal/officer_token.py)."""

    module: Path = Field(description="the token vendor's PKCS#11 module (.so)")
    label: str | None = Field(default=None, description="its label; default: the only token")
    pin_tries: int = Field(
        default=10, ge=1, le=20, description="wrong PINs in a row before the terminal locks it"
    )


# The officer's touch UI (terminal/ui) answers on the loopback interface only: the car's
# browser runs on the same machine, and nothing else in the car or on the mobile link may reach
# a page that signs protocols with the officer's token.
LOOPBACK_HOST = "127.0.0.1"


class UiSettings(_Section):
    host: str = Field(default=LOOPBACK_HOST, description="always 127.0.0.1 (loopback only)")
    port: int = Field(default=8470, gt=0, lt=65536)
    sync_interval_s: float = Field(
        default=30.0, gt=0, description="seconds between sends of the queued protocols"
    )

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        if host != LOOPBACK_HOST:
            raise ValueError(
                f"the touch UI answers on {LOOPBACK_HOST} only (the car's own browser): {host!r}"
                " would let other machines sign in with the officer's token"
            )
        return host


class TerminalConfig(_Section):
    device_id: str
    terminal_id: str = Field(min_length=8, max_length=8, description="acquirer's DE41")
    agency: str | dict[Language, str] = Field(
        description="the agency's name on the receipt: one, or a table per language"
    )
    language: Language = Field(
        default=FALLBACK_LANGUAGE,
        description="the officer's language, and the receipt's unless the payer picks one",
    )
    # The driver's lookup form with the case number filled in (the driver adds his plate): a
    # copy printed offline cannot carry the token link a notice carries.
    case_url_template: str = "https://erap.kz/cases/?case={case_number}"
    registry_url: str
    data_dir: Path
    key_path: Path
    printer_device: str
    printer_baudrate: int = 9600
    printer_profile: str = Field(
        default="default",
        description="the printer's model in python-escpos's capabilities database",
    )
    printer_width_px: int | None = Field(
        default=None,
        ge=128,
        le=1024,
        multiple_of=8,
        description="dots across the paper (384: 58 mm, 576: 80 mm); default: the profile's",
    )
    payment_device: Literal["emv", "ecr"]
    emv: EmvSettings | None = None
    ecr: EcrSettings | None = None
    token: TokenSection | None = None
    roadside: RoadsideSettings | None = Field(
        default=None, description="the roadside protocol (terminal/roadside); none: payments only"
    )
    ui: UiSettings = Field(default_factory=UiSettings, description="the officer's touch UI")

    @field_validator("agency")
    @classmethod
    def _agency_named(cls, agency: str | dict[Language, str]) -> str | dict[Language, str]:
        if not agency:
            raise ValueError("name the agency, or give a name per language")
        return agency

    @field_validator("printer_profile")
    @classmethod
    def _known_profile(cls, profile: str) -> str:
        names = profile_names()
        if profile not in names:
            raise ValueError(
                f"no printer profile {profile!r} in python-escpos's capabilities database:"
                f" use one of {', '.join(names)}"
            )
        return profile

    @model_validator(mode="after")
    def _selected_device_is_configured(self) -> Self:
        if getattr(self, self.payment_device) is None:
            raise ValueError(
                f"payment_device is {self.payment_device!r} but the [{self.payment_device}]"
                " section is missing"
            )
        return self


def load_config(path: Path) -> TerminalConfig:
    """Raises ``ConfigError`` naming each bad key, or the TLS file that cannot be used."""
    config = load_toml(TerminalConfig, path)
    tls = config.emv.acquirer_tls() if config.emv and config.payment_device == "emv" else None
    if tls is not None:
        try:
            ssl.create_default_context(cafile=str(tls.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"invalid configuration in {path}: emv.acquirer_ca_file: {tls.ca_file} cannot"
                f" be used as the acquirer's CA certificate (PEM): {exc}"
            ) from None
        try:
            client_context(tls)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"invalid configuration in {path}: emv.client_cert_file, client_key_file:"
                f" {tls.cert_file} and {tls.key_file} cannot be used ({exc}): each must be a"
                " readable PEM file, and the key must belong to the certificate"
            ) from None
    return config


def configured_language(path: Path) -> Language:
    """The ``language`` a configuration file names, read even when the rest of it is not
    usable, so that the refusal reads in the officer's language; the default otherwise."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return FALLBACK_LANGUAGE
    value = raw.get("language")
    return (language_or_none(value) if isinstance(value, str) else None) or FALLBACK_LANGUAGE
