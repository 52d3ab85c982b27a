"""Where the repository's own files are, for tests at any folder depth (test paths mirror the
code's, so ``Path(__file__).parents[n]`` would change with every move)."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"
SUPPORT = REPOSITORY / "tests" / "support"
