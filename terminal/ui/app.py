"""The screens of the touch UI over the roadside desk: sign in with the token's PIN, draw up
a protocol (lookups, article, place, photos, the driver's signature or refusal, outcome),
review, SIGN, the printed copy and the on-the-spot payment, today's protocols.

Each POST is answered with a redirect to the screen that shows its outcome (so a reload never
posts twice); a protocol keeps its id from the first screen on, and the desk makes a second
SIGN of the same id the same protocol, and a payment's id the same payment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID, uuid4

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from contract import now_utc
from contract.roadside import ProtocolOutcome
from i18n import Language, Message, Text, language_or_none
from terminal.journal import PaymentState
from terminal.messages import SpokenError
from terminal.officer_rules import TokenGone
from terminal.officer_token import OfficerToken
from terminal.roadside import RoadsideDesk
from terminal.roadside.codes import offence_day
from terminal.roadside.payments import on_the_spot_minor
from terminal.ui.drafts import DraftState
from terminal.ui.pages import STATIC_DIR, render
from terminal.ui.revocation import OfficerRevocations
from terminal.ui.sessions import (
    LANGUAGE_COOKIE,
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    Sessions,
    Visit,
    allowed_host,
    allowed_origin,
    new_secret,
    same_secret,
)

PIN_MAX = 16


@dataclass
class Station:
    """What the screens work with: the desk, the token slot, the terminal's language."""

    desk: RoadsideDesk
    token: OfficerToken
    language: Language
    port: int
    has_camera: bool = False
    revocations: OfficerRevocations | None = None
    clock: Callable[[], datetime] = now_utc


def _language(request: Request, station: Station) -> Language:
    return language_or_none(request.cookies.get(LANGUAGE_COOKIE)) or station.language


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def create_app(station: Station) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    sessions = Sessions()
    app.state.sessions = sessions
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def only_this_machine(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not allowed_host(request.headers.get("host"), station.port) or not allowed_origin(
            request.headers.get("origin"), station.port
        ):
            return PlainTextResponse("refused: not this terminal's own browser", status_code=403)
        return await call_next(request)

    def visit_of(request: Request) -> Visit | None:
        return sessions.get(request.cookies.get(SESSION_COOKIE))

    async def posted(request: Request, visit: Visit) -> dict[str, str] | None:
        form = await _form(request)
        return form if same_secret(form.get("csrf"), visit.csrf) else None

    async def posted_visit(request: Request) -> tuple[Visit, dict[str, str]] | Response:
        """A POST's session and form; else where it goes: signed out to the sign-in screen,
        without this session's CSRF token refused (``forbidden``)."""
        visit = visit_of(request)
        if visit is None:
            return _see("/sign-in")
        form = await posted(request, visit)
        if form is None:
            return forbidden(request)
        return visit, form

    def forbidden(request: Request) -> Response:
        """A POST without this session's CSRF token: said in the officer's language, since
        a form left open from an earlier session ends here too."""
        return render(request, "refused.html", _language(request, station), status_code=403)

    def signed_out(request: Request, message: Message | None = None) -> Response:
        """The sign-in screen (a token gone or a session ended ends here too)."""
        csrf = request.cookies.get(PRE_CSRF_COOKIE) or new_secret()
        response = render(
            request,
            "sign_in.html",
            _language(request, station),
            csrf=csrf,
            message=message,
            status_code=200 if message is None else 401,
        )
        response.set_cookie(PRE_CSRF_COOKIE, csrf, httponly=True, samesite="strict")
        response.delete_cookie(SESSION_COOKIE)
        return response

    # --- language, sign-in --------------------------------------------------------------------

    @app.get("/language/{code}")
    def choose_language(code: str, back: str = "/") -> Response:
        language = language_or_none(code)
        response = _see(back if back.startswith("/") and not back.startswith("//") else "/")
        if language is not None:
            response.set_cookie(LANGUAGE_COOKIE, language, httponly=True, samesite="strict")
        return response

    @app.get("/")
    def home(request: Request) -> Response:
        return _see("/protocols" if visit_of(request) else "/sign-in")

    @app.get("/sign-in")
    def sign_in_screen(request: Request) -> Response:
        if visit_of(request):
            return _see("/protocols")
        return signed_out(request)

    @app.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        form = await _form(request)
        if not same_secret(form.get("csrf"), request.cookies.get(PRE_CSRF_COOKIE)):
            return forbidden(request)
        pin = form.get("pin", "")
        if not pin.isdigit() or len(pin) > PIN_MAX:
            return signed_out(request, Text("Type the token's PIN with the digits on the screen."))
        # A sign-in ends the session before it: the token's login is one per process
        # (PKCS#11), and a wrong PIN closes every session on the token anyway.
        sessions.close_all()
        try:
            officer = await run_in_threadpool(station.token.sign_in, pin, station.clock())
        except SpokenError as exc:
            return signed_out(request, exc.text)
        if station.revocations is not None:
            await run_in_threadpool(station.revocations.refresh)
            try:
                station.revocations.check(officer.certificate)
            except SpokenError as exc:
                officer.close()
                return signed_out(request, exc.text)
        response = _see("/protocols")
        response.set_cookie(
            SESSION_COOKIE, sessions.open(officer), httponly=True, samesite="strict"
        )
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        checked = await posted_visit(request)
        if isinstance(checked, Response):
            return checked
        sessions.close(request.cookies.get(SESSION_COOKIE))
        response = _see("/sign-in")
        response.delete_cookie(SESSION_COOKIE)
        return response

    # --- today's protocols --------------------------------------------------------------------

    @app.get("/protocols")
    def protocols(request: Request) -> Response:
        visit = visit_of(request)
        if visit is None:
            return _see("/sign-in")
        today = offence_day(station.clock())
        entries = [
            entry
            for entry in station.desk.protocols()
            if offence_day(entry.protocol.drawn_up_at) == today
        ]
        return render(
            request,
            "protocols.html",
            _language(request, station),
            visit=visit,
            entries=list(reversed(entries)),  # the newest first
            numbers_left=station.desk.numbers_left(),
            pending=station.desk.pending(),
        )

    # --- drawing up ---------------------------------------------------------------------------

    @app.post("/protocol/new")
    async def new_protocol(request: Request) -> Response:
        checked = await posted_visit(request)
        if isinstance(checked, Response):
            return checked
        visit, _ = checked
        protocol_id = uuid4()
        language = _language(request, station)
        visit.drafts[protocol_id] = DraftState(
            copy_language=language if language in ("kk", "ru") else station.language
        )
        return _see(f"/protocol/{protocol_id}/edit")

    def state_of(request: Request, protocol_id: UUID) -> tuple[Visit, DraftState] | None:
        visit = visit_of(request)
        if visit is None or protocol_id not in visit.drafts:
            return None
        return visit, visit.drafts[protocol_id]

    @app.get("/protocol/{protocol_id}/edit")
    def edit_screen(request: Request, protocol_id: UUID) -> Response:
        found = state_of(request, protocol_id)
        if found is None:
            return _see("/")
        visit, state = found
        if state.signed:
            return _see(f"/protocol/{protocol_id}")
        message, state.message = state.message, None
        return render(
            request,
            "edit.html",
            _language(request, station),
            visit=visit,
            state=state,
            protocol_id=protocol_id,
            codes=station.desk.codes,
            mrp=station.desk.codes.mrp_on(offence_day(station.clock())),
            message=message,
            has_camera=station.has_camera,
        )

    @app.post("/protocol/{protocol_id}/edit")
    async def edit(request: Request, protocol_id: UUID) -> Response:
        found = state_of(request, protocol_id)
        if found is None:
            return _see("/")
        visit, state = found
        form = await posted(request, visit)
        if form is None:
            return forbidden(request)
        here = f"/protocol/{protocol_id}/edit"
        if state.signed:
            return _see(f"/protocol/{protocol_id}")
        try:
            state.read(form)
            action = form.get("action", "")
            if action == "lookup":
                if not state.plate:
                    state.message = Text("Type the vehicle's plate.")
                else:
                    state.background = await run_in_threadpool(
                        station.desk.background, state.plate, state.iin or None
                    )
                return _see(here + "#found")
            if action == "photo":
                state.photos.append((await run_in_threadpool(station.desk.take_photo)).sha256)
                return _see(here + "#photos")
            if action != "review":
                return _see(here)
            placed = await run_in_threadpool(station.desk.place, state.address or None)
            if placed.place is None:
                state.message = Text(
                    "The car's GPS has no fix (%(reason)s): type the address of the stop.",
                    reason=placed.no_fix_reason or "",
                )
                return _see(here + "#place")
            article, part = state.article_part()
            state.assessment = station.desk.assess(article, part, state.history())
            state.place, state.no_fix_reason = placed.place, placed.no_fix_reason
            state.draft = state.to_draft(placed.place)
            if (
                state.draft.outcome is ProtocolOutcome.WARNING
                and not state.assessment.warning_allowed
            ):
                state.message = Text(
                    "Article %(article)s part %(part)s does not allow a warning: the outcome"
                    " must be a fine.",
                    article=state.assessment.entry.article,
                    part=state.assessment.entry.part,
                )
                return _see(here)
        except SpokenError as exc:
            state.message = exc.text
            return _see(here)
        return _see(f"/protocol/{protocol_id}/review")

    @app.get("/protocol/{protocol_id}/review")
    def review(request: Request, protocol_id: UUID) -> Response:
        found = state_of(request, protocol_id)
        if found is None:
            return _see("/")
        visit, state = found
        if state.signed:
            return _see(f"/protocol/{protocol_id}")
        if state.draft is None or state.assessment is None:
            return _see(f"/protocol/{protocol_id}/edit")
        message, state.message = state.message, None
        return render(
            request,
            "review.html",
            _language(request, station),
            visit=visit,
            state=state,
            protocol_id=protocol_id,
            message=message,
            signature=state.signature_data_url(),
        )

    @app.post("/protocol/{protocol_id}/sign")
    async def sign(request: Request, protocol_id: UUID) -> Response:
        found = state_of(request, protocol_id)
        if found is None:
            return _see("/")
        visit, state = found
        if await posted(request, visit) is None:
            return forbidden(request)
        if state.draft is None:
            return _see(f"/protocol/{protocol_id}/edit")
        try:
            recorded = await run_in_threadpool(
                partial(
                    station.desk.sign_and_record,
                    state.draft,
                    visit.officer,
                    protocol_id,
                    history=state.history(),
                    language=state.copy_language,
                )
            )
        except TokenGone as exc:
            # The token's session is gone: the officer signs in again; the draft is lost with
            # the session, nothing was journalled.
            sessions.close(request.cookies.get(SESSION_COOKIE))
            return signed_out(request, exc.text)
        except SpokenError as exc:
            state.message = exc.text
            return _see(f"/protocol/{protocol_id}/review")
        state.signed = True
        state.message = recorded.message
        return _see(f"/protocol/{protocol_id}")

    # --- the signed protocol: paper and payment ---------------------------------------------

    @app.get("/protocol/{protocol_id}")
    def signed(request: Request, protocol_id: UUID) -> Response:
        visit = visit_of(request)
        if visit is None:
            return _see("/sign-in")
        entry = next(
            (e for e in station.desk.protocols() if e.protocol.protocol_id == protocol_id), None
        )
        if entry is None:
            return _see(f"/protocol/{protocol_id}/edit")
        state = visit.drafts.setdefault(protocol_id, DraftState(signed=True))
        message, state.message = state.message, None
        if state.payment_id is None:
            state.payment_id = str(uuid4())  # one payment per screen: a double tap is one
        return render(
            request,
            "signed.html",
            _language(request, station),
            visit=visit,
            entry=entry,
            state=state,
            protocol_id=protocol_id,
            message=message,
            on_the_spot=on_the_spot_minor(entry.protocol, station.desk.codes.discount_percent),
        )

    @app.post("/protocol/{protocol_id}/pay")
    async def pay(request: Request, protocol_id: UUID) -> Response:
        checked = await posted_visit(request)
        if isinstance(checked, Response):
            return checked
        visit, form = checked
        state = visit.drafts.setdefault(protocol_id, DraftState(signed=True))
        try:
            payment_id = UUID(form.get("payment_id", ""))
        except ValueError:
            return _see(f"/protocol/{protocol_id}")
        try:
            result = await run_in_threadpool(
                station.desk.pay, protocol_id, payment_id, state.copy_language
            )
        except SpokenError as exc:
            state.message = exc.text
            return _see(f"/protocol/{protocol_id}")
        state.message = result.message
        state.paid = result.state is PaymentState.APPROVED
        if not state.paid:
            state.payment_id = None  # declined: another attempt is another payment
        return _see(f"/protocol/{protocol_id}")

    @app.post("/protocol/{protocol_id}/reprint")
    async def reprint(request: Request, protocol_id: UUID) -> Response:
        checked = await posted_visit(request)
        if isinstance(checked, Response):
            return checked
        visit, form = checked
        state = visit.drafts.setdefault(protocol_id, DraftState(signed=True))
        language = language_or_none(form.get("copy_language"))
        try:
            state.message = await run_in_threadpool(
                station.desk.print_copy, protocol_id, visit.officer.name, language
            )
        except SpokenError as exc:
            state.message = exc.text
        back = form.get("back", "")
        return _see(back if back in ("/protocols",) else f"/protocol/{protocol_id}")

    return app
