"""Settings of the operators' console that are about practice, not about the law: the
``[console]`` section of the registry's configuration file, defined with the rest of it in
``central_ingest.config``."""

from __future__ import annotations

from central_ingest.config import ConsoleSettings

__all__ = ["ConsoleSettings"]
