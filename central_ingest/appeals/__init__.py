"""Appeals: the driver files one within the appeal period (text and up to five photos or
PDFs), which suspends the resolution at once; a supervisor, or an officer entering a court's
decision, decides it. ``AppealService`` is what the API, the console, the driver's page and
``erap-registry appeals`` call."""

from central_ingest.appeals.service import AppealService, Upload

__all__ = ["AppealService", "Upload"]
