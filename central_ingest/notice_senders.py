"""The sender the configuration asks for: the SMSC for SMS and the mail relay for e-mail where
``[notices.sms]`` and ``[notices.email]`` are set, the file sender for any channel that is not
(the embedded default, and ``make demo``). Passwords come from the environment, never from the
configuration file.

Outside ``central_ingest/notify`` on purpose: its refusals are the registry's sentences for the
technician at the command line (the ``registry`` catalog), not the drivers' notices.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from central_ingest.config import RegistryConfig
from central_ingest.core.errors import DomainError
from central_ingest.notify.senders import Channel, ChannelSender, FileSender, NotificationSender
from central_ingest.notify.smpp import SmppSender
from central_ingest.notify.smtp import SmtpSender
from i18n import Text

SMPP_PASSWORD_MAX = 8
"""SMPP 3.4 5.2.2: the password is a C-octet string of 9 octets, its terminating NUL included."""


class SenderConfigError(DomainError):
    """A configured channel cannot be used as configured."""

    def __init__(self, message: Text) -> None:
        super().__init__("notice_sender_config", message)


def make_sender(
    config: RegistryConfig,
    *,
    outbox: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> NotificationSender:
    """``outbox``: the file unconfigured channels write to (``notification_outbox_path``).
    Raises ``SenderConfigError`` for a configured channel whose password is missing."""
    delivery = config.notices
    file_sender = FileSender(outbox or config.notification_outbox_path)
    if delivery.sms is None and delivery.email is None:
        return file_sender
    senders: dict[Channel, NotificationSender] = {"sms": file_sender, "email": file_sender}
    if delivery.sms is not None:
        password = environ.get(delivery.sms.password_env)
        if not password:
            raise SenderConfigError(
                Text(
                    "The SMSC password is not set: put it in the environment variable %(variable)s"
                    " (notices.sms.password_env).",
                    variable=delivery.sms.password_env,
                )
            )
        if len(password) > SMPP_PASSWORD_MAX:
            raise SenderConfigError(
                Text(
                    "The SMSC password in %(variable)s is longer than the %(max)s characters SMPP"
                    " 3.4 allows; the operator gives one that fits.",
                    variable=delivery.sms.password_env,
                    max=SMPP_PASSWORD_MAX,
                )
            )
        senders["sms"] = SmppSender(delivery.sms, password)
    if delivery.email is not None:
        password = environ.get(delivery.email.password_env)
        if delivery.email.username and not password:
            raise SenderConfigError(
                Text(
                    "The mail relay password is not set: put it in the environment variable"
                    " %(variable)s (notices.email.password_env).",
                    variable=delivery.email.password_env,
                )
            )
        senders["email"] = SmtpSender(delivery.email, password)
    return ChannelSender(senders)
