"""Registry configuration: one TOML file, validated by pydantic, with embedded defaults.

Legal figures that change (MRP per year, fine schedule, deadlines) live here rather than in code:
DOMAIN.md marks several of them as still to be verified.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central_ingest.api.settings import ApiSettings
from contract import ViolationCode
from contract.config_file import ConfigError, load_toml
from i18n import FALLBACK_LANGUAGE, Language


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpeedBand(_Section):
    """A speeding band of article 592: excess over the limit in [min_excess_kmh, next band)."""

    min_excess_kmh: int = Field(ge=0)
    part: str
    fine_mrp: int = Field(gt=0)


class FixedFine(_Section):
    article: str
    part: str
    fine_mrp: int = Field(gt=0)


class FineSchedule(_Section):
    speeding_article: str = "592"
    speeding_bands: list[SpeedBand] = Field(
        default_factory=lambda: [
            SpeedBand(min_excess_kmh=10, part="1", fine_mrp=5),
            SpeedBand(min_excess_kmh=20, part="2", fine_mrp=10),
            SpeedBand(min_excess_kmh=40, part="3", fine_mrp=20),
            SpeedBand(min_excess_kmh=60, part="4", fine_mrp=40),
        ]
    )
    fixed: dict[ViolationCode, FixedFine] = Field(
        default_factory=lambda: {
            ViolationCode.RED_LIGHT: FixedFine(article="599", part="1", fine_mrp=10),
            ViolationCode.PHONE: FixedFine(article="591", part="1", fine_mrp=5),
            ViolationCode.SEAT_BELT: FixedFine(article="590", part="1", fine_mrp=5),
            ViolationCode.BUS_LANE: FixedFine(article="601", part="1", fine_mrp=3),
        }
    )

    @model_validator(mode="after")
    def _bands_ascending(self) -> FineSchedule:
        excesses = [band.min_excess_kmh for band in self.speeding_bands]
        if not excesses or excesses != sorted(set(excesses)):
            raise ValueError("speeding_bands must be non-empty and strictly ascending by excess")
        return self


class Deadlines(_Section):
    discount_days: int = Field(default=7, ge=0, description="discount window after resolution")
    discount_percent: int = Field(default=50, ge=0, le=100)
    appeal_days: int = Field(default=10, ge=0, description="resolution enters into force after")
    voluntary_days: int = Field(default=30, ge=1, description="after entry into force")
    limitation_days: int = Field(default=365, ge=1, description="after entry into force")
    limitation_warning_days: int = Field(default=60, ge=1)


class BailiffSettings(_Section):
    """[bailiffs]: when an overdue case may go to the bailiffs without a delivered notice of
    the resolution. The Code requires the driver to be told; where he cannot be reached, the
    documented failed attempts stand in for it (the figures are the agency's reading of the
    Code: *verify* with its lawyers). A case that has neither goes to the supervisor's list of
    undelivered cases, never to the bailiffs."""

    notice_attempts_required: int = Field(
        default=3,
        ge=1,
        le=20,
        description="rounds of the resolution's notice (every SMS and e-mail of the round"
        " failed) before an unreachable driver's case may go to bailiffs",
    )
    notice_attempt_days: int = Field(
        default=14,
        ge=0,
        le=365,
        description="days from the first failed round to the last one, at least; the rounds"
        " are spread evenly over them",
    )
    discount_reminder_days: int = Field(
        default=2,
        ge=1,
        le=30,
        description="the reminder that the discount ends goes out this many days before",
    )

    @property
    def round_spacing_days(self) -> float:
        """Days between two rounds of the resolution's notice."""
        if self.notice_attempts_required < 2:
            return float(self.notice_attempt_days)
        return self.notice_attempt_days / (self.notice_attempts_required - 1)


class MqttBroker(_Section):
    """One region's broker, as the ingest worker connects to it."""

    region: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", description="names it in logs")
    host: str
    port: int = Field(default=1883, ge=1, le=65535)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    username: str | None = None


# The keys of the single-broker form, which a [[mqtt.brokers]] list replaces.
_SINGLE_BROKER_KEYS = ("host", "port", "ca_file", "cert_file", "key_file", "username")
DEFAULT_REGION = "default"


class MqttSettings(_Section):
    """The ingest's brokers: either one, given by the keys below (the region "default"), or
    one per region as ``[[mqtt.brokers]]``; the worker holds its shared subscription on each."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    client_id: str = "central-ingest-1"
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    batch_wait_ms: int = Field(default=20, ge=1, le=5_000)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    username: str | None = None
    brokers: list[MqttBroker] = Field(default_factory=list)
    reconnect_min_s: int = Field(default=1, ge=1, le=60, description="first wait after a loss")
    reconnect_max_s: int = Field(default=30, ge=1, le=3600, description="the wait doubles to this")

    @model_validator(mode="after")
    def _one_form_of_brokers(self) -> MqttSettings:
        single = [key for key in _SINGLE_BROKER_KEYS if key in self.model_fields_set]
        if self.brokers and single:
            raise ValueError(
                f"give the broker either as {', '.join(single)} or as a [[mqtt.brokers]] list,"
                " not both: with a list, each broker names its own host, port and TLS files"
            )
        regions = [broker.region for broker in self.brokers]
        repeated = sorted({region for region in regions if regions.count(region) > 1})
        if repeated:
            raise ValueError(f"each broker needs its own region; repeated: {', '.join(repeated)}")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be below reconnect_min_s")
        return self

    def broker_list(self) -> list[MqttBroker]:
        """Every broker to consume from; the single-broker form is the region "default"."""
        if self.brokers:
            return list(self.brokers)
        return [
            MqttBroker(
                region=DEFAULT_REGION,
                **{key: getattr(self, key) for key in _SINGLE_BROKER_KEYS},
            )
        ]

    def client_id_for(self, broker: MqttBroker) -> str:
        """The MQTT client id on ``broker``: ``<client_id>-<region>`` with a list, so that no
        two sessions share an id; the single broker keeps ``client_id`` itself, so the session
        a worker already holds there survives the upgrade to this release."""
        return f"{self.client_id}-{broker.region}" if self.brokers else self.client_id


class DeadLetterSettings(_Section):
    """How long refused messages are kept, and how much room they may take."""

    retention_days: int = Field(default=30, ge=1, description="deleted when older")
    budget_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1024 * 1024,
        description="above it a warning is logged and the oldest unsigned refusals are dropped",
    )
    check_interval_s: int = Field(default=300, ge=1, description="how often both are applied")


class HttpIngestLimits(_Section):
    """Per-source throttling of POST /v1/messages (central_ingest/api/rate_limit.py): only
    refusals from before the signature check take a token."""

    refusals_per_s: float = Field(default=1.0, gt=0, description="tokens a source regains")
    burst: int = Field(default=20, ge=1, description="refusals a source may cause at once")
    max_sources: int = Field(default=10_000, ge=1, description="buckets kept, LRU")


class SmppSettings(_Section):
    """The mobile operator's SMSC, reached over SMPP 3.4 (central_ingest/notify/smpp.py)."""

    host: str
    port: int = Field(default=2775, ge=1, le=65535)
    system_id: str = Field(min_length=1, max_length=15)
    password_env: str = Field(
        default="ERAP_SMPP_PASSWORD",
        description="the environment variable holding the bind password (never this file)",
    )
    system_type: str = Field(default="", max_length=12)
    source_addr: str = Field(
        min_length=1, max_length=20, description="the sender name or short number drivers see"
    )
    source_addr_ton: int = Field(default=5, ge=0, le=6, description="5: alphanumeric name")
    source_addr_npi: int = Field(default=0, ge=0, le=18)
    submits_per_s: float = Field(default=20, gt=0, description="the operator's contracted rate")
    throttle_retries: int = Field(
        default=5,
        ge=0,
        description="throttled submits retried in the session before the notice"
        " waits for the worker's next round",
    )
    throttle_backoff_s: float = Field(
        default=1.0, gt=0, description="the wait after a first throttling; doubles each time"
    )
    timeout_s: float = Field(default=10, gt=0, description="for the SMSC's every answer")


class SmtpSettings(_Section):
    """The agency's mail relay, reached over SMTP with STARTTLS (central_ingest/notify/smtp.py)."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    from_address: str = Field(min_length=3)
    username: str | None = None
    password_env: str = Field(
        default="ERAP_SMTP_PASSWORD",
        description="the environment variable holding the relay password (never this file)",
    )
    ca_file: Path | None = Field(
        default=None,
        description="certificates to trust for the relay instead of the system's",
    )
    timeout_s: float = Field(default=30, gt=0)


class NoticeDelivery(_Section):
    """Where notices go: unset channels are written to notification_outbox_path instead."""

    sms: SmppSettings | None = None
    email: SmtpSettings | None = None


class AppealSettings(_Section):
    """Appeals filed by drivers ([appeals]); the appeal period itself is deadlines.appeal_days."""

    max_files: int = Field(
        default=5, ge=0, le=5, description="photos or PDFs one appeal may carry (5 at most)"
    )
    max_file_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=50 * 1024 * 1024,
        description="the largest photo or PDF accepted, in bytes",
    )
    max_image_pixels: int = Field(
        default=50_000_000,
        ge=1_000_000,
        description="a photo with more pixels is refused unread (a small file can decode to"
        " gigabytes)",
    )


class ConsoleSettings(_Section):
    """The officers' console ([console]): practice, not law (central_ingest.console uses it)."""

    double_review_rate: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="share of confirmations drawn at random for a blind second review by"
        " another officer",
    )
    history_items: int = Field(
        default=8,
        ge=1,
        le=100,
        description="how many earlier fixations and cases of the same plate the review screen"
        " lists",
    )


class DriverPageSettings(_Section):
    """The driver's case page ([driver_page]): how long its links open the case, and how fast
    a case number and plate may be tried (central_ingest.driver uses it)."""

    link_days: int = Field(
        default=120,
        ge=1,
        le=730,
        description="how long the link a notice carries opens the case page (a newer notice"
        " brings a fresh link)",
    )
    lookup_minutes: int = Field(
        default=60,
        ge=1,
        le=24 * 60,
        description="how long the page opened by a case number and plate stays open",
    )
    lookups_per_minute: float = Field(
        default=5.0,
        gt=0,
        description="case number and plate lookups one client address may make, on average",
    )
    lookup_burst: int = Field(default=10, ge=1, description="lookups one address may make at once")
    case_tries_per_hour: float = Field(
        default=6.0,
        gt=0,
        description="wrong plates tried against one case number, from every address together,"
        " before that case number is refused for a while: a case cannot be found by guessing",
    )
    case_try_burst: int = Field(default=5, ge=1)
    max_tracked: int = Field(
        default=100_000,
        ge=100,
        description="client addresses and case numbers whose tries are remembered at once",
    )


class PayerInstitution(_Section):
    """A bank or eGov reporting the payments made through it ([[bank_payments.institutions]]):
    it signs each notification with its Ed25519 key (central_ingest/ingest/bank_payments.py)."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{1,31}$",
        description="names it in the X-Erap-Institution header, the statements and the ledger",
    )
    channel: Literal["bank", "egov"] = "bank"
    public_key: str = Field(
        pattern=r"^[A-Za-z0-9_-]{43}$",
        description="its Ed25519 public key: 32 bytes, base64url without padding",
    )
    name: str = Field(default="", description="for people: the institution's name")


class BankPaymentSettings(_Section):
    """Payments made elsewhere ([bank_payments]): who may report them and how a notification's
    signature is bounded in time."""

    institutions: list[PayerInstitution] = Field(default_factory=list)
    replay_window_s: int = Field(
        default=300,
        ge=10,
        le=3600,
        description="a notification signed further from the registry's clock is refused; its"
        " nonce is remembered twice as long",
    )
    max_notification_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)

    @model_validator(mode="after")
    def _one_entry_per_institution(self) -> BankPaymentSettings:
        ids = [institution.id for institution in self.institutions]
        repeated = sorted({name for name in ids if ids.count(name) > 1})
        if repeated:
            raise ValueError(f"each institution is listed once; repeated: {', '.join(repeated)}")
        return self


class RegistryConfig(_Section):
    data_dir: Path = Path("var/registry")
    database: str | None = Field(
        default=None,
        description="where the registry's data is: a libpq URL (postgresql://...; several"
        " hosts and target_session_attrs=read-write for a primary with a standby; keep the"
        " password in ~/.pgpass or PGPASSFILE, not here) or a SQLite file path; by default the"
        " SQLite file registry.sqlite3 in data_dir",
    )
    database_pool_size: int = Field(
        default=40,
        ge=1,
        le=500,
        description="PostgreSQL: connections this process opens at most; each thread that uses"
        " the database holds one, so this covers the API's thread pool (40 threads)",
    )
    agency_code: str = Field(default="KZ-GP", pattern=r"^[A-Z0-9-]{2,16}$")
    language: Language = Field(
        default=FALLBACK_LANGUAGE,
        description="screens of operators who chose none, and notices whose recipient's"
        " language the vehicle register does not know when unknown_language_notices is"
        " 'default'",
    )
    unknown_language_notices: Literal["both", "default"] = Field(
        default="both",
        description="notices to an owner whose language the vehicle register does not know:"
        " 'both' sends Kazakh then Russian (two SMS, one bilingual e-mail), as state bodies do;"
        " 'default' sends only the registry's `language` (half the SMS cost)",
    )
    case_link_base_url: str = "https://erap.example.kz/cases"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    max_evidence_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    clock_skew_s: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="how far a device's clock may be from the registry's: a signed request"
        " timed further away, or a fixation captured further in the future, is refused",
    )
    session_hours: int = Field(default=12, ge=1, le=24)
    tree_head_interval_s: int = Field(default=300, ge=1, description="how often to sign")
    lifecycle_interval_s: int = Field(
        default=3600, ge=1, description="how often to hand over overdue cases and expire old ones"
    )
    notification_interval_s: int = Field(default=10, ge=1)
    notices: NoticeDelivery = Field(default_factory=NoticeDelivery)
    mrp_by_year: dict[int, int] = Field(
        default_factory=lambda: {2024: 3692, 2025: 3932, 2026: 4325},
        description="monthly calculation index in KZT, fixed on the date of the offence",
    )
    fines: FineSchedule = Field(default_factory=FineSchedule)
    deadlines: Deadlines = Field(default_factory=Deadlines)
    bailiffs: BailiffSettings = Field(default_factory=BailiffSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    dead_letters: DeadLetterSettings = Field(default_factory=DeadLetterSettings)
    http_ingest: HttpIngestLimits = Field(default_factory=HttpIngestLimits)
    api: ApiSettings = Field(default_factory=ApiSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    bank_payments: BankPaymentSettings = Field(default_factory=BankPaymentSettings)
    appeals: AppealSettings = Field(default_factory=AppealSettings)
    driver_page: DriverPageSettings = Field(default_factory=DriverPageSettings)

    @property
    def db_path(self) -> Path:
        """The SQLite file: ``database`` when it is a path, else registry.sqlite3 in data_dir
        (meaningless when ``database`` is a PostgreSQL URL)."""
        if self.database is not None and not self.uses_postgres:
            return Path(self.database)
        return self.data_dir / "registry.sqlite3"

    @property
    def uses_postgres(self) -> bool:
        return self.database is not None and self.database.startswith(
            ("postgresql://", "postgres://")
        )

    @property
    def database_target(self) -> str | Path:
        """What ``store.db.open_store`` opens: the PostgreSQL URL, or the SQLite file."""
        return self.database if self.uses_postgres and self.database else self.db_path

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def notification_outbox_path(self) -> Path:
        """Where the embedded sender writes SMS and e-mail texts (stands in for the gateway)."""
        return self.data_dir / "notifications-sent.jsonl"

    @property
    def registry_key_path(self) -> Path:
        """The registry's own Ed25519 key for signing tree heads; created on first start."""
        return self.data_dir / "keys" / "registry-tree-head.pem"

    def mrp_on(self, day: date) -> int:
        try:
            return self.mrp_by_year[day.year]
        except KeyError:
            raise LookupError(
                f"no MRP value configured for {day.year}: add it to mrp_by_year"
            ) from None


def load_config(path: Path | None = None, **overrides: object) -> RegistryConfig:
    return load_toml(RegistryConfig, path, **overrides)


__all__ = ["ConfigError", "RegistryConfig", "load_config"]
