"""The officer's commands on the terminal: find a case, take a payment, settle what is pending.

Every command reads the terminal's TOML configuration (``--config``). What the commands print
is in the officer's language (the configuration's ``language``), the receipt in the payer's
(``pay --language kk``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from contract import DeviceKey, now_utc
from contract.config_file import ConfigError
from i18n import Language, Text, Translator, language_or_none, translator
from terminal.config import configured_language, load_config
from terminal.messages import SpokenError
from terminal.officer_token import OfficerToken, PinCounter, TokenSettings
from terminal.registry_client import case_status
from terminal.service import PaymentResult, PaymentTerminal, Refused, payment_state
from terminal.wiring import build_terminal

# The --help texts stay in English: Typer builds them when this module is imported, before any
# configuration (and so any language) is known, and they are read by the engineers who install
# the terminal, not by the officer at the roadside.
app = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()
ConfigOption = typer.Option(Path("/etc/erap/terminal.toml"), "--config", help="TOML file")
LanguageOption = typer.Option(
    "",
    "--language",
    help="the receipt's language, as the payer asks: kk or ru (en for engineers);"
    " default: the terminal's `language`",
)


def _say(text: str, style: str = "") -> None:
    """One line for the officer; ``text`` is printed as it is (never read as Rich markup)."""
    console.print(text, style=style or None, markup=False, highlight=False)


def _unusable(config_path: Path, exc: Exception) -> typer.Exit:
    """Say, in the language the file names, that the configuration cannot be used."""
    t = translator("terminal", configured_language(config_path))
    _say(
        t.text(
            Text(
                "The terminal configuration %(path)s is not usable: %(problem)s",
                path=str(config_path),
                problem=str(exc),
            )
        ),
        "red",
    )
    return typer.Exit(2)


@contextmanager
def _terminal(config_path: Path) -> Iterator[tuple[PaymentTerminal, Translator]]:
    """The configured terminal and the officer's translator; a refusal or an unreachable part
    ends the command with its sentence instead of a traceback."""
    try:
        config = load_config(config_path)
        key = DeviceKey.load(config.key_path)
    except (OSError, ValueError, ConfigError) as exc:
        raise _unusable(config_path, exc) from exc
    t = translator("terminal", config.language)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with httpx.Client(base_url=config.registry_url, timeout=15.0) as http:
        terminal, journal = build_terminal(config, key=key, http=http)
        try:
            yield terminal, t
        except SpokenError as exc:
            _say(t.text(exc.text), "red")
            raise typer.Exit(1) from exc
        finally:
            journal.close()


def _payment_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise Refused(
            Text("%(value)s is not a payment id (a UUID, as the terminal printed it).", value=value)
        ) from None


def _receipt_language(value: str) -> Language | None:
    """The language the payer asked for; None: the terminal's."""
    if not value:
        return None
    language = language_or_none(value)
    if language is None:
        raise Refused(
            Text("There is no receipt language %(language)s: use kk or ru.", language=value)
        )
    return language


def _show(result: PaymentResult, t: Translator) -> None:
    _say(
        t.text(
            Text(
                "Payment %(payment)s: %(state)s",
                payment=result.payment_id,
                state=payment_state(result.state),
            )
        )
    )
    _say(t.text(result.message))


@app.command()
def find(
    case_number: str = typer.Option("", help="case number"),
    plate: str = typer.Option("", help="vehicle plate, e.g. 123ABC01"),
    iin: str = typer.Option("", help="the person's IIN (12 digits)"),
    config: Path = ConfigOption,
) -> None:
    """Show the cases found and the amount due now, as the registry computes it."""
    with _terminal(config) as (terminal, t):
        cases = terminal.find_cases(case_number=case_number, plate=plate, iin=iin)
    if not cases:
        _say(t.text(Text("No case found.")))
    for case in cases:  # one short block per case: the screen in a patrol car is small
        console.print(
            f"[bold]{escape(case.case_number)}[/bold]  {escape(case.plate)}"
            f"  {escape(t.text(case.legal_basis))}",
            highlight=False,
        )
        _say(
            "  "
            + t.text(
                Text(
                    "fine %(full)s, due now %(due)s (%(status)s)",
                    full=t.money(case.full_minor),
                    due=t.money(case.amount_due_now_minor),
                    status=case_status(case.status),
                )
            )
        )


@app.command()
def pay(
    case_number: str = typer.Argument(..., help="the case to pay"),
    payment_id: str = typer.Option("", help="repeat a payment id to retry it safely"),
    language: str = LanguageOption,
    config: Path = ConfigOption,
) -> None:
    """Charge the amount due now on the case; print the receipt; report to the registry."""
    with _terminal(config) as (terminal, t):
        key = _payment_id(payment_id) if payment_id else uuid4()
        result = terminal.pay(case_number, key, _receipt_language(language))
    _show(result, t)
    if not result.charged:
        raise typer.Exit(1)


@app.command()
def reprint(
    payment_id: str = typer.Argument(..., help="the approved payment's id"),
    language: str = LanguageOption,
    config: Path = ConfigOption,
) -> None:
    """Print the receipt of an approved payment again (in another language if asked)."""
    with _terminal(config) as (terminal, t):
        terminal.reprint(_payment_id(payment_id), _receipt_language(language))
    _say(t.text(Text("Receipt printed.")))


@app.command()
def settle(
    every: float = typer.Option(
        0.0, help="repeat every this many seconds (a reversal is resent until acknowledged)"
    ),
    config: Path = ConfigOption,
) -> None:
    """Resend due reversals, settle payments in doubt, send queued payment reports."""
    with _terminal(config) as (terminal, t):
        while True:
            for result in terminal.settle_pending():
                _show(result, t)
            if every <= 0:
                return
            time.sleep(every)


def _officer_token(config: Path) -> tuple[OfficerToken, Translator]:
    """The configured token slot and the officer's translator, or the reason there is none."""
    try:
        settings = load_config(config)
    except (OSError, ConfigError) as exc:
        raise _unusable(config, exc) from exc
    t = translator("terminal", settings.language)
    if settings.token is None:
        no_token = Text("This terminal has no [token] section: it takes no officer's signature.")
        _say(t.text(no_token), "red")
        raise typer.Exit(2)
    token = OfficerToken(
        TokenSettings(settings.token.module, settings.token.label),
        PinCounter(settings.data_dir / "pin-tries.json", settings.token.pin_tries),
    )
    return token, t


@app.command("sign-in")
def sign_in(config: Path = ConfigOption) -> None:
    """Check the officer's signing token: PIN, certificate, IIN (the touch UI keeps the
    session; this command signs in, shows who is signed in, and signs out)."""
    token, t = _officer_token(config)
    pin = typer.prompt(t.text(Text("PIN of the signing token")), hide_input=True)
    try:
        officer = token.sign_in(pin, now_utc())
    except SpokenError as exc:
        _say(t.text(exc.text), "red")
        raise typer.Exit(1) from exc
    try:
        _say(
            t.text(
                Text(
                    "Signed in: %(name)s, IIN %(iin)s; the certificate is valid until %(until)s.",
                    name=officer.name,
                    iin=officer.iin,
                    until=t.date_time(officer.certificate.not_valid_after_utc),
                )
            )
        )
    finally:
        officer.close()


@app.command("unlock-token")
def unlock_token(config: Path = ConfigOption) -> None:
    """For the agency's token administrator: set a new PIN on a locked officer's token with the
    security officer's PIN; the terminal's count of wrong PINs starts again."""
    token, t = _officer_token(config)
    so_pin = typer.prompt(t.text(Text("Security officer's PIN of the token")), hide_input=True)
    new_pin = typer.prompt(t.text(Text("New PIN for the officer")), hide_input=True)
    if typer.prompt(t.text(Text("The new PIN again")), hide_input=True) != new_pin:
        _say(t.text(Text("The two new PINs differ: nothing was changed.")), "red")
        raise typer.Exit(1)
    try:
        serial = token.unlock(so_pin, new_pin)
    except SpokenError as exc:
        _say(t.text(exc.text), "red")
        raise typer.Exit(1) from exc
    _say(t.text(Text("The token %(serial)s is unlocked with the new PIN.", serial=serial)))


@app.command()
def ui(config: Path = ConfigOption) -> None:
    """Serve the officer's touch UI (roadside protocols, sign-in with the token) to the car's
    browser at http://127.0.0.1:<port>/, the port of the ui section (loopback only; it works
    with the network down)."""
    from terminal.ui.server import serve  # FastAPI and uvicorn only for this command

    try:
        settings = load_config(config)
        key = DeviceKey.load(settings.key_path)
    except (OSError, ValueError, ConfigError) as exc:
        raise _unusable(config, exc) from exc
    t = translator("terminal", settings.language)
    if settings.token is None or settings.roadside is None:
        _say(
            t.text(
                Text(
                    "The touch UI needs the [token] and [roadside] sections in the terminal"
                    " configuration: this terminal takes payments only."
                )
            ),
            "red",
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _say(
        t.text(
            Text(
                "The touch UI is at http://127.0.0.1:%(port)s/ (this machine only).",
                port=settings.ui.port,
            )
        )
    )
    serve(settings, key)
