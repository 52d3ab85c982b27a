"""The in-car payment terminal: case lookup, EMV card over PC/SC or a bank POS, ISO 8583
authorisation, ESC/POS receipts, payment reports to the registry.

Built in a later issue; it imports the wire contract from ``contract``.
"""
