"""`make demo` runs the registry end to end; with --once it exits 0 only if every check passed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_end_to_end_and_every_check_passes(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "demo", "--once", "--data-dir", str(tmp_path / "demo")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "COLUMNS": "200"},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for expected in (
        "fixations stored by the registry: 5/5 receipts",
        "4 cases opened, 1 rejected",
        "paid, 21,625.00 KZT",
        "requester got 403, supervisor 200",
        "no sign of tampering",
        "all processes stopped",
    ):
        assert expected in run.stdout
    assert "FAILED" not in run.stdout
