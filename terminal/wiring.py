"""The terminal's objects, built from its configuration (``terminal.config``): the payment
device it selects, the journal, the registry client, the printer and the service over them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from contract import DeviceKey, now_utc
from terminal.acquirer_link import AcquirerLink
from terminal.config import TerminalConfig
from terminal.ecr import EcrPosDevice
from terminal.journal import Journal
from terminal.payment_device import EmvAcquirerDevice, MerchantIds, PaymentDevice
from terminal.pcsc import PcscCard
from terminal.receipt import EscposReceiptPrinter
from terminal.registry_client import RegistryClient
from terminal.service import PaymentTerminal, TerminalIdentity


def build_payment_device(
    config: TerminalConfig, journal: Journal, clock: Callable[[], datetime]
) -> PaymentDevice:
    if config.payment_device == "ecr":
        assert config.ecr is not None  # checked by the model
        return EcrPosDevice(
            port_url=config.ecr.port,
            journal=journal,
            clock=clock,
            answer_timeout_s=config.ecr.answer_timeout_s,
            baudrate=config.ecr.baudrate,
        )
    emv = config.emv
    assert emv is not None  # checked by the model
    return EmvAcquirerDevice(
        open_card=lambda: PcscCard(emv.reader),
        acquirer=AcquirerLink(
            emv.acquirer_host, emv.acquirer_port, emv.acquirer_timeout_s, tls=emv.acquirer_tls()
        ),
        journal=journal,
        merchant=MerchantIds(terminal_id=config.terminal_id, merchant_id=emv.merchant_id),
        clock=clock,
    )


def build_terminal(
    config: TerminalConfig,
    *,
    key: DeviceKey,
    http: httpx.Client,
    clock: Callable[[], datetime] = now_utc,
) -> tuple[PaymentTerminal, Journal]:
    """The terminal and its journal (the caller closes it)."""
    journal = Journal(config.data_dir / "terminal.db")
    terminal = PaymentTerminal(
        identity=TerminalIdentity(
            device_id=config.device_id,
            terminal_id=config.terminal_id,
            agency=config.agency,
            case_url_template=config.case_url_template,
        ),
        key=key,
        registry=RegistryClient(http, config.device_id, key, language=config.language),
        device=build_payment_device(config, journal, clock),
        printer=EscposReceiptPrinter(
            config.printer_device,
            config.printer_baudrate,
            profile=config.printer_profile,
            width_px=config.printer_width_px,
        ),
        journal=journal,
        clock=clock,
        language=config.language,
    )
    return terminal, journal
