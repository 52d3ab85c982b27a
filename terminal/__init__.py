"""The in-car payment terminal: case lookup from the registry, the card charged through one of
two payment devices (this terminal's EMV kernel over PC/SC with ISO 8583 to the acquirer, or
the bank's certified POS over its ECR serial link, chosen in the configuration), an ESC/POS
receipt, and the signed payment report through a durable outbox.

It speaks Kazakh and Russian (gettext domain ``terminal``): the officer's commands in the
configured language, the receipt in the payer's, printed as text in a character table of the
printer's profile or, where none holds a line, as an image (``terminal.paper``).

Never stored or logged: the full card number, track data, CVV, PIN or PIN block.

The pure core (``tlv``, ``emv``, ``iso8583``, ``money``, ``receipt.receipt_lines``) imports no
adapter. The configuration lives in ``terminal.config`` (``load_config``), the objects it selects
are built in ``terminal.wiring`` (``build_terminal``), the service is ``terminal.service``
(``PaymentTerminal``); importing this package runs none of them. Commands: ``erap-terminal``
(``terminal.cli``; also ``python -m terminal``).
"""
