"""The driver's side of the demo (issue 16): the notice reaching his phone through the mobile
operator's SMSC, the case page its link opens, a payment made at his bank and reconciled, and
an appeal filed on that page and decided by a supervisor, each told to him by SMS.

Around the registry, only what cannot exist here is simulated, by the tests' harness as the
broker is: the operator's SMSC is tests/support/smsc.py, a process of its own speaking SMPP 3.4
(the registry binds to it as to a real operator's, and it sends back the delivery receipts the
handset's network would), started by tests/support/wire_servers.py; the bank is this module,
signing its notification with its own Ed25519 key as a bank's system does
(central_ingest/ingest/bank_notifications.py). The driver is an HTTP client reading the page.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import uuid
from collections import Counter
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from central_ingest.config import RegistryConfig
from central_ingest.ingest.bank_notifications import NOTIFICATIONS_PATH, notification_headers
from central_ingest.notify import outbox
from central_ingest.wiring import open_registry_store
from contract import DeviceKey, now_utc
from demo.registry_side import Officers, close_store, wait_for
from demo.story import Summary, chapter, console, say
from i18n.formatting import money
from tests.support.broker import free_port
from tests.support.evidence_images import evidence_jpeg
from tests.support.wire_servers import Server, running

PAID_AT_BANK = "840DAN07"  # its owner reads Kazakh; he pays at his bank what the page says
BANK_ID = "halyk"
SMSC_SYSTEM_ID = "erap"
PASSWORD_ENV = "ERAP_SMPP_PASSWORD"
# Both the SMS and their receipts are seen by the registry within about a second.
NOTICE_INTERVAL_S = 1
RECEIPT_DELAY_S = 0.3
AMENDED_PART = "2"


@dataclass
class SmsAtSmsc:
    """One SMS as the SMSC took it: its parts (message id, text) in order, and the receipts."""

    destination: str
    data_coding: int
    parts: dict[int, tuple[str, str]] = field(default_factory=dict)
    receipts: dict[str, bool] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(text for _, (_, text) in sorted(self.parts.items()))

    @property
    def message_ids(self) -> list[str]:
        return [message_id for _, (message_id, _) in sorted(self.parts.items())]

    @property
    def delivered(self) -> bool:
        return bool(self.parts) and all(self.receipts.get(i) for i in self.message_ids)


class DriverSide:
    """The SMSC simulator and the bank around the registry, and the driver's chapter."""

    def __init__(self, folder: Path, http_port: int) -> None:
        self.folder = folder
        self.base_url = f"http://127.0.0.1:{http_port}"
        self.smsc_port = free_port()
        self.bank_key = DeviceKey.generate()
        # Fresh each run, at most the 8 characters SMPP 3.4 allows, and only in the
        # environment the registry's processes inherit (never in its configuration file).
        os.environ[PASSWORD_ENV] = self._smsc_password = secrets.token_hex(4)
        self.links: list[str] = []
        self._config: RegistryConfig | None = None
        self._stack = ExitStack()
        self._smsc: Server | None = None

    def registry_settings(self) -> dict[str, Any]:
        """What the registry needs beyond the defaults: links to its own page, SMS through the
        SMSC, and the bank it hears payments from."""
        return {
            "case_link_base_url": f"{self.base_url}/cases",
            "notification_interval_s": NOTICE_INTERVAL_S,
            "notices": {
                "sms": {
                    "host": "127.0.0.1",
                    "port": self.smsc_port,
                    "system_id": SMSC_SYSTEM_ID,
                    "password_env": PASSWORD_ENV,
                    "source_addr": "ERAP",
                }
            },
            "bank_payments": {
                "institutions": [
                    {
                        "id": BANK_ID,
                        "channel": "bank",
                        "public_key": self.bank_key.public_key_b64,
                        "name": "Halyk Bank (demo)",
                    }
                ]
            },
        }

    def write_config(self, path: Path) -> Path:
        """The same settings as the registry's TOML file, for ``erap-registry serve --config``."""
        settings = self.registry_settings()
        lines = [f"{key} = {json.dumps(settings[key])}" for key in settings if key in _TOP]
        lines += ["", "[notices.sms]", *_pairs(settings["notices"]["sms"])]
        for institution in settings["bank_payments"]["institutions"]:
            lines += ["", "[[bank_payments.institutions]]", *_pairs(institution)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def start_smsc(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._smsc = self._stack.enter_context(
            running(
                "tests.support.smsc",
                self.folder / "smsc.jsonl",
                "--port",
                str(self.smsc_port),
                "--system-id",
                SMSC_SYSTEM_ID,
                "--password",
                self._smsc_password,
                "--receipt-delay",
                str(RECEIPT_DELAY_S),
            )
        )
        say(
            f"SMSC simulator (SMPP 3.4) on 127.0.0.1:{self._smsc.port}, "
            f"journal {self._smsc.journal}"
        )

    def stop(self) -> None:
        self._stack.close()

    def print_links(self) -> None:
        """The pages the driver opened, for a person to open while the registry stays up."""
        for link in self.links:
            console.print(f"Driver's page: {link}")

    # -- what the SMSC and the registry saw ---------------------------------------------------

    def sms_to(self, phone: str) -> list[SmsAtSmsc]:
        """The SMS the SMSC accepted for ``phone`` (parts joined by their concatenation
        header), in the order they came, each with the receipts it sent back."""
        entries = [] if self._smsc is None else self._smsc.entries()
        receipts = {e["receipt"]: bool(e["delivered"]) for e in entries if "receipt" in e}
        messages: dict[tuple[object, ...], SmsAtSmsc] = {}
        for entry in entries:
            if not entry.get("accepted") or entry["destination"] != phone.lstrip("+"):
                continue
            udh = entry["udh"]
            key = (udh["ref"], udh["total"]) if udh else ("single", entry["message_id"])
            sms = messages.setdefault(key, SmsAtSmsc(entry["destination"], entry["data_coding"]))
            sms.parts[udh["seq"] if udh else 1] = (entry["message_id"], entry["text"])
            if entry["message_id"] in receipts:
                sms.receipts[entry["message_id"]] = receipts[entry["message_id"]]
        return list(messages.values())

    # -- the chapter ---------------------------------------------------------------------------

    def tell(
        self,
        summary: Summary,
        officers: Officers,
        config: RegistryConfig,
        paid_at_bank: str,
        appealed: str,
    ) -> None:
        """The driver's side: the case ``paid_at_bank`` is told, opened and paid at a bank;
        the case ``appealed`` is appealed on its page and amended by a supervisor."""
        self._config = config
        chapter("The driver's phone: the case-opened SMS through the operator's SMSC")
        link = self._notice_arrives(summary, officers, paid_at_bank)
        chapter("The driver's case page, opened from the link in the SMS")
        self._page(summary, officers, paid_at_bank, link)
        chapter("A payment at the driver's bank: a signed notification, reconciled")
        self._bank_pays(summary, officers, paid_at_bank, link)
        chapter("An appeal on the driver's page, decided by a supervisor")
        notices = self._sms_notices(officers, appealed)
        phone = notices[0]["recipient"] if notices else ""
        appeal_link = _first_link([sms.text for sms in self.sms_to(phone)], self.base_url)
        if appeal_link is None:
            summary.check("an appeal filed on the page's route", False, "no link in its SMS")
            return
        self._appeal(summary, officers, config, appealed, appeal_link)

    def _notice_arrives(self, summary: Summary, officers: Officers, case_number: str) -> str:
        delivered = wait_for(
            lambda: _states(self._sms_notices(officers, case_number)) == ["delivered"], 20, 0.3
        )
        notices = self._sms_notices(officers, case_number)
        phone = notices[0]["recipient"] if notices else ""
        at_smsc = self.sms_to(phone)
        sms = at_smsc[0] if at_smsc else SmsAtSmsc(phone, 0)
        encoding = {0: "GSM 7-bit", 8: "UCS-2"}.get(sms.data_coding, str(sms.data_coding))
        say(
            f"[SMSC] submit_sm to +{sms.destination}: {len(sms.parts)} part(s) in {encoding}, "
            f"message ids {', '.join(sms.message_ids) or 'none'}"
        )
        say(f"[phone +{sms.destination}] {sms.text}")
        for message_id in sms.message_ids:
            receipt = sms.receipts.get(message_id)
            stat = "none yet" if receipt is None else "DELIVRD" if receipt else "UNDELIV"
            say(f"[SMSC] deliver_sm receipt for {message_id}: stat:{stat}")
        state = _states(notices)
        say(f"[registry] the notice of {case_number}: {', '.join(state) or 'none'}")
        link = _first_link([sms.text], self.base_url) or ""
        summary.check(
            "the case-opened SMS through the SMSC simulator, its receipts matched, the notice"
            " delivered in the registry",
            delivered
            and sms.delivered
            and len(sms.parts) == notices[0]["parts"]
            and notices[0]["language"] == "kk"
            and bool(link),
            f"{case_number}: {len(sms.parts)} part(s), receipts "
            f"{sum(sms.receipts.values())}/{len(sms.parts)}, registry {', '.join(state)}",
        )
        return link

    def _page(self, summary: Summary, officers: Officers, case_number: str, link: str) -> None:
        case = officers.case(case_number)
        due = int(str(case["amount_due_now_minor"]))
        page = _fetch(link)
        shown = _due_now(page.text) if page.status_code == 200 else None
        self.links.append(link)
        say(f"[driver] GET {link}: {page.status_code}, {len(page.content)} bytes")
        say(f"[driver] the page says: case {case_number}, to pay now {shown or 'nothing'}")
        say(f"open it in a browser: {link}")
        summary.check(
            "the driver's page from the SMS link: the case number and the amount due now",
            page.status_code == 200
            and case_number in html.unescape(page.text)
            and shown == money(due, "kk"),
            f"{case_number}, {shown}",
        )

    def _bank_pays(self, summary: Summary, officers: Officers, case_number: str, link: str) -> None:
        due = int(str(officers.case(case_number)["amount_due_now_minor"]))
        body = json.dumps(
            {
                "reference": f"HB-{uuid.uuid4().hex[:12].upper()}",
                "case_number": case_number,
                "amount_minor": due,
                "currency": "KZT",
                "paid_at": now_utc().isoformat(),
            }
        ).encode()
        answers = [
            httpx.post(
                f"{self.base_url}{NOTIFICATIONS_PATH}",
                content=body,
                headers={
                    **notification_headers(self.bank_key, BANK_ID, body, nonce=uuid.uuid4().hex),
                    "Content-Type": "application/json",
                },
                timeout=30,
            )
            # The bank's system did not hear the first answer and sends the payment again.
            for _ in range(2)
        ]
        first, again = (a.json() if a.status_code == 200 else {} for a in answers)
        say(
            f"[bank {BANK_ID}] POST {NOTIFICATIONS_PATH} {money(due, 'en')} for {case_number}: "
            f"{answers[0].status_code} {first.get('outcome')}; sent again: "
            f"{answers[1].status_code} duplicate={again.get('duplicate')}"
        )
        case = officers.case(case_number)
        page = _fetch(link)
        summary.check(
            "a bank's signed payment notification reconciled: the case paid once, the repeat a"
            " duplicate, the page says paid",
            first.get("outcome") == "matched"
            and first.get("duplicate") is False
            and again.get("duplicate") is True
            and case["status"] == "paid"
            and int(str(case["paid_minor"])) == due
            and page.status_code == 200
            and _due_now(page.text) is None
            and money(due, "kk") in page.text,
            f"{case_number} {case['status']}, {money(int(str(case['paid_minor'] or 0)), 'en')}",
        )
        self._later_notices(summary, officers, case_number, "payment received", 1)

    def _appeal(
        self,
        summary: Summary,
        officers: Officers,
        config: RegistryConfig,
        case_number: str,
        link: str,
    ) -> None:
        self.links.append(link)
        say(f"[driver] opens {link} (open it in a browser too)")
        program = Path(shutil.which("true") or "/bin/true").read_bytes()
        renamed = _post_appeal(link, "Я не превышал скорость.", ("photo.jpg", program))
        kept = self._appeal_of(officers, case_number)
        say(
            f"[driver] a Linux program renamed photo.jpg: {renamed.status_code}, "
            f"{'kept!' if kept else 'refused, nothing kept'}"
        )
        photo = evidence_jpeg("DASHCAM 58 km/h", seed=5)
        filed = _post_appeal(
            link,
            "Радар ошибся: мой видеорегистратор показывает 58 км/ч.",
            ("dashcam.jpg", photo),
        )
        appeal = self._appeal_of(officers, case_number)
        say(
            f"[driver] the appeal with its photo: {filed.status_code}; the registry holds appeal "
            f"#{(appeal or {}).get('appeal_id')}, case {(appeal or {}).get('case_status')}"
        )
        summary.check(
            "an appeal filed on the page's route with a photo, open in the registry (a program"
            " renamed .jpg refused before, nothing kept)",
            renamed.status_code == 422
            and kept is None
            and filed.status_code == 201
            and appeal is not None
            and appeal["status"] == "open"
            and len(appeal["attachments"]) == 1,
            f"{case_number}: appeal #{(appeal or {}).get('appeal_id')}",
        )
        if appeal is None:
            return
        before = officers.case(case_number)
        decided = officers.api.post(
            f"/v1/appeals/{appeal['appeal_id']}/decision",
            headers=officers.auth("serik"),
            json={
                "decision": "amended",
                "note": "the radar's margin puts the excess in the lower band",
                "amended_article": config.fines.speeding_article,
                "amended_part": AMENDED_PART,
            },
        )
        after = officers.case(case_number)
        band = next(b for b in config.fines.speeding_bands if b.part == AMENDED_PART)
        expected = band.fine_mrp * config.mrp_on(now_utc().date()) * 100
        say(
            f"[supervisor serik] amended to art. {after['article']} p.{after['part']}: "
            f"{money(int(str(before['full_minor'])), 'en')} -> "
            f"{money(int(str(after['full_minor'])), 'en')} ({decided.status_code})"
        )
        summary.check(
            "the supervisor's decision: the resolution amended, the fine recomputed",
            decided.status_code == 200
            and decided.json()["decision"] == "amended"
            and after["part"] == AMENDED_PART
            and int(str(after["full_minor"])) == expected
            and expected < int(str(before["full_minor"])),
            f"{case_number} art. {after['article']} p.{after['part']}, "
            f"{money(int(str(after['full_minor'])), 'en')}",
        )
        self._later_notices(summary, officers, case_number, "appeal received and decided", 2)

    def _later_notices(
        self, summary: Summary, officers: Officers, case_number: str, what: str, changes: int
    ) -> None:
        """The SMS telling of ``changes`` changes of status since the case opened (one at
        least for each), all delivered through the SMSC."""
        if not hasattr(outbox, "queue_status_notice"):
            say(f"[registry] no notice of a change of status ({what}): not built yet")
            return

        def later() -> list[dict[str, Any]]:
            notices = self._sms_notices(officers, case_number)
            return [n for n in notices if n["created_at"] != notices[0]["created_at"]]

        def told(notices: list[dict[str, Any]]) -> bool:
            return len(notices) >= changes and set(_states(notices)) == {"delivered"}

        wait_for(lambda: told(later()), 20, 0.3)
        notices = later()
        bodies = notice_bodies(self._config, [n["notification_id"] for n in notices])
        for notice, text in zip(notices, bodies, strict=True):
            say(f"[phone {notice['language']}, {notice['state']}] {text}")
        states = Counter(_states(notices))
        summary.check(
            f"the driver told by SMS through the SMSC: {what}",
            told(notices),
            f"{case_number}: {len(notices)} SMS ("
            + (", ".join(f"{count} {state}" for state, count in states.items()) or "none")
            + ")",
        )

    def _appeal_of(self, officers: Officers, case_number: str) -> dict[str, Any] | None:
        answer = officers.api.get(
            f"/v1/cases/{case_number}/appeal", headers=officers.auth("aidana")
        )
        answer.raise_for_status()
        appeal: dict[str, Any] | None = answer.json()
        return appeal

    def _sms_notices(self, officers: Officers, case_number: str) -> list[dict[str, Any]]:
        answer = officers.api.get(
            f"/v1/cases/{case_number}/notices", headers=officers.auth("aidana")
        )
        answer.raise_for_status()
        return [n for n in answer.json() if n["channel"] == "sms"]


_TOP = ("case_link_base_url", "notification_interval_s")


def _pairs(table: Mapping[str, Any]) -> list[str]:
    # JSON's strings and integers are TOML's too.
    return [f"{key} = {json.dumps(value)}" for key, value in table.items()]


def _states(notices: list[dict[str, Any]]) -> list[str]:
    return [str(n["state"]) for n in notices]


def _first_link(texts: list[str], base_url: str) -> str | None:
    for text in texts:
        found = re.search(re.escape(base_url) + r"/cases/[A-Za-z0-9_-]{18}", text)
        if found:
            return found.group(0)
    return None


def _fetch(link: str) -> httpx.Response:
    return httpx.get(link, timeout=30)


def _due_now(page: str) -> str | None:
    found = re.search(r'<strong id="due-now">([^<]*)</strong>', page)
    return html.unescape(found.group(1)) if found else None


def _post_appeal(link: str, text: str, upload: tuple[str, bytes]) -> httpx.Response:
    return httpx.post(
        f"{link}/appeal",
        data={"text": text},
        files=[("files", upload)],
        headers={"Accept-Language": "ru"},
        timeout=30,
    )


def notice_bodies(config: RegistryConfig | None, notification_ids: list[int]) -> list[str]:
    """The texts of these notices, as the registry queued them."""
    if config is None or not notification_ids:
        return []
    store = open_registry_store(config)
    try:
        marks = ", ".join("?" for _ in notification_ids)
        rows = store.db.query(
            f"SELECT body FROM notifications WHERE notification_id IN ({marks})"
            " ORDER BY notification_id",
            tuple(notification_ids),
        )
        return [str(row["body"]) for row in rows]
    finally:
        close_store(store)
