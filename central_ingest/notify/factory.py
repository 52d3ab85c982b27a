"""The sender the configuration asks for: the SMSC for SMS and the mail relay for e-mail where
``[notices.sms]`` and ``[notices.email]`` are set, the file sender for any channel that is not
(the embedded default, and ``make demo``). Passwords come from the environment, never from the
configuration file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from central_ingest.config import RegistryConfig
from central_ingest.notify.senders import Channel, ChannelSender, FileSender, NotificationSender
from central_ingest.notify.smpp import SmppSender
from central_ingest.notify.smtp import SmtpSender


class SenderConfigError(RuntimeError):
    """A configured channel cannot be used as configured."""


def make_sender(
    config: RegistryConfig,
    *,
    outbox: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> NotificationSender:
    """``outbox``: the file unconfigured channels write to (``notification_outbox_path``)."""
    delivery = config.notices
    file_sender = FileSender(outbox or config.notification_outbox_path)
    if delivery.sms is None and delivery.email is None:
        return file_sender
    senders: dict[Channel, NotificationSender] = {"sms": file_sender, "email": file_sender}
    if delivery.sms is not None:
        password = environ.get(delivery.sms.password_env)
        if not password:
            raise SenderConfigError(
                f"the SMSC password is not set: put it in the environment variable"
                f" {delivery.sms.password_env} (notices.sms.password_env)"
            )
        senders["sms"] = SmppSender(delivery.sms, password)
    if delivery.email is not None:
        password = environ.get(delivery.email.password_env)
        if delivery.email.username and not password:
            raise SenderConfigError(
                f"the mail relay password is not set: put it in the environment variable"
                f" {delivery.email.password_env} (notices.email.password_env)"
            )
        senders["email"] = SmtpSender(delivery.email, password)
    return ChannelSender(senders)
