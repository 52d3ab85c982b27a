"""The appeal form's POST on the driver's page (``/cases/{token}/appeal``, mounted by
``driver.app.install_driver``): the link's token ties the driver to the case, the appeals
service checks the period, the text and every file, and the answer is a page in the driver's
language saying what happened: received (the resolution is suspended), or refused and why,
with nothing kept. ``_appeal.html`` shows the form, or the appeal already filed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from central_ingest.appeals import AppealService, Upload
from central_ingest.core.appeal_views import AppealView
from central_ingest.core.appeals import AppealChannel
from central_ingest.core.errors import DomainError
from central_ingest.driver.access import CaseOpened, registry_of, store_of
from central_ingest.driver.web import TEMPLATES, chosen_language, driver_translator, render
from central_ingest.store.case_reads import case_row

router = APIRouter(prefix="/cases", include_in_schema=False)

# Enough parts for the text, five files and a few more, so a sixth file gets the rule's
# sentence rather than the parser's.
_MAX_PARTS = 20


def _service(request: Request) -> AppealService:
    return AppealService(
        store_of(request), request.app.state.config, clock=registry_of(request).now
    )


def case_appeal(request: Request, case_number: str) -> AppealView | None:
    """The case's appeal, for ``_appeal.html`` (which shows it instead of the form)."""
    return _service(request).appeal_of_case(case_number)


TEMPLATES.env.globals["case_appeal"] = case_appeal


async def read_uploads(files: list[UploadFile], most_bytes: int) -> list[Upload]:
    """Each file read to one byte past the limit at most (as the API's route does): an
    oversized file is refused by the rules without being held whole."""
    return [Upload(item.filename or "", await item.read(most_bytes + 1)) for item in files]


@router.post("/{token}/appeal")
async def file_appeal(request: Request, opened: CaseOpened) -> Response:
    row = case_row(store_of(request).db, opened.case_number)
    language = chosen_language(request, None if row is None else row["owner_language"])
    service = _service(request)
    form = await request.form(max_files=_MAX_PARTS, max_fields=_MAX_PARTS)
    text = form.get("text")
    files = [
        item
        for item in form.getlist("files")
        # A form sent with no file chosen carries one empty, nameless part.
        if isinstance(item, UploadFile) and (item.filename or item.size)
    ]
    context: dict[str, Any] = {"base": f"/cases/{opened.token}", "case_number": opened.case_number}
    try:
        uploads = await read_uploads(files, request.app.state.config.appeals.max_file_bytes)
        appeal = service.file(
            opened.case_number,
            text if isinstance(text, str) else "",
            uploads,
            channel=AppealChannel.DRIVER_PAGE,
        )
    except DomainError as refused:
        problem = driver_translator(language).text(refused.text)
        return render(request, "appeal_result.html", language, 422, problem=problem, **context)
    return render(request, "appeal_result.html", language, 201, appeal=appeal, **context)
