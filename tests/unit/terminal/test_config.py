"""The terminal's configuration model (terminal/config.py): a device's section is required."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.config import TerminalConfig


def test_configuration_needs_the_section_of_the_selected_device(tmp_path: Path) -> None:
    fields = {
        "device_id": "term-patrol-0001",
        "terminal_id": "T0000042",
        "agency": "Police",
        "registry_url": "https://erap.example",
        "data_dir": tmp_path,
        "key_path": tmp_path / "k",
        "printer_device": "/dev/ttyUSB0",
    }
    with pytest.raises(ValueError, match=r"\[ecr\] section is missing"):
        TerminalConfig.model_validate({**fields, "payment_device": "ecr"})
    config = TerminalConfig.model_validate(
        {
            **fields,
            "payment_device": "emv",
            "emv": {
                "reader": "ACS",
                "acquirer_host": "10.0.0.1",
                "acquirer_port": 5000,
                "merchant_id": "ERAPASTANA00001",
                "acquirer_ca_file": "/etc/erap/keys/acquirer-ca.crt",
                "client_cert_file": "/etc/erap/keys/acquirer-client.crt",
                "client_key_file": "/etc/erap/keys/acquirer-client.key",
            },
        }
    )
    assert config.emv is not None and config.emv.acquirer_timeout_s == 30.0
    tls = config.emv.acquirer_tls()
    assert tls is not None and tls.server_name == "10.0.0.1"  # the host, unless named
