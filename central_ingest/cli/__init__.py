"""``erap-registry``: the registry's command line, one module per group of commands.

``main`` is the root application (serve, ingest-worker, run-jobs, export-bailiffs, devices) and
adds the groups: ``audit``, ``backup``, ``operators`` (``operator``), ``ops``, ``pki``;
``common`` is what they share (language, printing, configuration), ``progress`` the progress
line long commands draw. The console script is ``central_ingest.cli:app``.
"""

from central_ingest.cli.main import app

__all__ = ["app"]
