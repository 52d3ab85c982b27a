"""Simulators for what cannot exist here, each a separate process speaking the real wire format:
an EMV card behind vpcd (``virtual_card``), the acquirer host over ISO 8583 (``acquirer``)."""
