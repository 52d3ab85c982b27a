"""The simulator's scenario language and CLIs, over pyserial's loop:// (no pty needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from firmware_bridge.simulator import McuSimulator, ScriptError, run_step, steps


def test_steps_split_on_newlines_and_semicolons() -> None:
    assert steps("vehicle 97 lane=2; light red\n\n tamper open ;") == [
        "vehicle 97 lane=2",
        "light red",
        "tamper open",
    ]


@pytest.mark.parametrize(
    ("step", "complaint"),
    [
        ("fly 3", "unknown step"),
        ("light purple", "cannot understand step 'light purple'"),
        ("vehicle fast", "cannot understand step"),
        ("tamper ajar", "tamper takes 'open' or 'closed'"),
    ],
)
def test_bad_steps_are_refused_with_a_sentence(step: str, complaint: str) -> None:
    with McuSimulator("loop://") as simulator, pytest.raises(ScriptError, match=complaint):
        run_step(simulator, step)


def test_reboot_step_advances_the_boot_counter() -> None:
    with McuSimulator("loop://", boot=41) as simulator:
        run_step(simulator, "reboot")
        assert simulator.boot == 42


@pytest.mark.parametrize("module", ["firmware_bridge", "firmware_bridge.simulator"])
def test_clis_have_help(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert "Usage" in result.stdout


def test_monitor_explains_a_port_that_cannot_be_opened() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "firmware_bridge", "monitor", "--port", "/dev/ttyNOPE9"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "cannot open serial port /dev/ttyNOPE9" in result.stdout
    assert "cable" in result.stdout
