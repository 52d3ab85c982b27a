from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.broker import MosquittoBroker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A real Mosquitto broker on a free loopback port, stopped after the test."""
    with MosquittoBroker(tmp_path / "broker") as running:
        yield running
