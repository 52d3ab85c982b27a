"""The central registry (ERAP): ingest of signed device messages, officer review, the case
lifecycle, the tamper-evident audit ledger and the operators' HTTP API.

Public face: ``central_ingest.api.app.create_app``, ``central_ingest.cases.CaseService``,
``central_ingest.ingest.service.IngestService`` and the ``erap-registry`` command.
"""
