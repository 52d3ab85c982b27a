"""The in-car payment terminal: case lookup from the registry, the card charged through one of
two payment devices (this terminal's EMV kernel over PC/SC with ISO 8583 to the acquirer, or
the bank's certified POS over its ECR serial link, chosen in the configuration), an ESC/POS
receipt, and the signed payment report through a durable outbox.

Never stored or logged: the full card number, track data, CVV, PIN or PIN block.
"""

from terminal.config import TerminalConfig, build_terminal, load_config
from terminal.journal import Journal, PaymentState
from terminal.registry_client import CaseForPayment, RegistryClient, RegistryUnavailable
from terminal.service import PaymentResult, PaymentTerminal, TerminalIdentity

__all__ = [
    "CaseForPayment",
    "Journal",
    "PaymentResult",
    "PaymentState",
    "PaymentTerminal",
    "RegistryClient",
    "RegistryUnavailable",
    "TerminalConfig",
    "TerminalIdentity",
    "build_terminal",
    "load_config",
]
