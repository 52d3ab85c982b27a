"""E-mail notices through the agency's mail relay: SMTP with STARTTLS (stdlib ``smtplib``).

The relay's certificate is verified (the system's trust store, or ``ca_file``) before any
password or text crosses: a relay that offers no STARTTLS is refused, never used in clear. Each
notice is one message: a ``text/plain`` part in UTF-8 holding the text ``notify.texts`` wrote
(for an owner of unknown language, Kazakh then Russian), inside ``multipart/alternative`` so a
later HTML part joins it without changing the envelope; its Message-ID is kept as the notice's
provider id.

The message is built with the ``email.mime`` classes and an ``email.header.Header`` subject,
not ``EmailMessage``: Python 3.11's default policy folds a long Cyrillic subject into encoded
words with the space between two words left outside them, where RFC 2047 has the reader drop
it ("іс: бағдаршам" arrived as "іс:бағдаршам"; test_notify_smtp checks the subject whole).

What the relay answers decides what happens to the notice: a 5xx refusal of the recipient
fails it at once with the relay's words; a 4xx, a refused sign-in, a lost connection, a timeout
or a certificate that does not verify leave it to the worker's next round.
"""

from __future__ import annotations

import smtplib
import ssl
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

from central_ingest.config import SmtpSettings
from central_ingest.notify.senders import DeliveryError, Notification, NotificationSender, Sent

PROVIDER = "smtp"


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {words}".strip()


class SmtpSender(NotificationSender):
    def __init__(self, settings: SmtpSettings, password: str | None) -> None:
        self._settings = settings
        self._password = password
        self._context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )

    def message(self, notification: Notification) -> MIMEMultipart:
        message = MIMEMultipart("alternative")
        message["From"] = self._settings.from_address
        message["To"] = notification.recipient
        # The compat32 message takes a Header (documented); typeshed types only str.
        subject = Header(notification.subject or notification.case_number, "utf-8")
        message["Subject"] = subject  # type: ignore[assignment]
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(
            idstring=f"notice-{notification.notification_id}",
            domain=self._settings.from_address.rpartition("@")[2] or None,
        )
        # Kazakh, Russian or both (kk,ru): what the text is written in, for screen readers.
        message["Content-Language"] = notification.language.replace(",", ", ")
        message.attach(MIMEText(notification.body, "plain", "utf-8"))
        return message

    def send(self, notification: Notification) -> Sent:
        s = self._settings
        message = self.message(notification)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as relay:
                relay.ehlo()
                if not relay.has_extn("starttls"):
                    raise DeliveryError(
                        f"the mail relay {s.host}:{s.port} does not offer STARTTLS; notices"
                        " are not sent in clear",
                        retryable=True,
                    )
                relay.starttls(context=self._context)
                relay.ehlo()
                if s.username:
                    relay.login(s.username, self._password or "")
                relay.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise DeliveryError(
                f"the mail relay refused {notification.recipient}: {_reply(code, text)}",
                retryable=code < 500,
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"the mail relay refused the sign-in as {s.username!r}:"
                f" {_reply(exc.smtp_code, exc.smtp_error)} (check the password in the"
                " environment)",
                retryable=True,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"the mail relay refused the message: {_reply(exc.smtp_code, exc.smtp_error)}",
                retryable=exc.smtp_code < 500,
            ) from exc
        except ssl.SSLError as exc:
            raise DeliveryError(
                f"the mail relay's certificate did not verify: {exc}", retryable=True
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"could not reach the mail relay {s.host}:{s.port}: {exc}", retryable=True
            ) from exc
        return Sent(PROVIDER, (str(message["Message-ID"]),))
