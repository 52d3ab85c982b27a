"""A device's private key file (contract.signing.DeviceKey): private, never overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract import DeviceKey


def test_device_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "device.pem"
    key = DeviceKey.generate()
    key.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert DeviceKey.load(path).public_key_b64 == key.public_key_b64
    with pytest.raises(FileExistsError):
        DeviceKey.generate().save(path)
