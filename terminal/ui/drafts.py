"""What the officer typed on the protocol screen, kept between the screens until he signs,
and the desk's ``Draft`` made of it. The rules (the part, the amount, whether a warning is
allowed, the place) are the desk's; here only the form's fields are read."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field

from contract.roadside import ProtocolOutcome, ProtocolPlace
from i18n import Language, Message, Text, language_or_none
from terminal.roadside import Assessment, Background, Draft, DraftRefused, EarlierOffence

PNG_DATA_URL = "data:image/png;base64,"
MAX_SIGNATURE_BYTES = 512 * 1024  # a drawn signature at 1280x800 is some 20-60 kB


@dataclass
class DraftState:
    """One protocol being drawn up; ``protocol_id`` (the key it is kept under) makes a second
    tap on SIGN the same protocol."""

    plate: str = ""
    iin: str = ""
    article: str = ""  # "599/1": the code table's article and part
    outcome: str = ProtocolOutcome.FINE.value
    address: str = ""
    description: str = ""
    explanation: str = ""
    signature_png: bytes | None = None
    refused_to_sign: bool = False
    photos: list[str] = field(default_factory=list)
    copy_language: Language = "ru"
    background: Background | None = None
    # Filled at review: what the desk made of it.
    draft: Draft | None = None
    assessment: Assessment | None = None
    place: ProtocolPlace | None = None
    no_fix_reason: str | None = None
    message: Message | None = None  # the last action's outcome, shown once
    payment_id: str | None = None
    signed: bool = False
    paid: bool = False

    def read(self, form: Mapping[str, str]) -> None:
        """The fields the edit screen posts (every one of them, each time)."""
        self.plate = form.get("plate", "").strip()
        self.iin = form.get("iin", "").strip()
        self.article = form.get("article", "")
        self.outcome = form.get("outcome", ProtocolOutcome.FINE.value)
        self.address = form.get("address", "").strip()
        self.description = form.get("description", "").strip()
        self.explanation = form.get("explanation", "").strip()
        self.refused_to_sign = form.get("refused") == "1"
        drawn = form.get("signature", "")
        if drawn:  # empty: the canvas was not touched this time, keep what was drawn before
            self.signature_png = signature_png(drawn)
        if self.refused_to_sign:
            self.signature_png = None
        self.copy_language = language_or_none(form.get("copy_language")) or self.copy_language

    def article_part(self) -> tuple[str, int]:
        article, _, part = self.article.partition("/")
        if not article or not part.isdigit():
            raise DraftRefused(Text("Choose the article and part of the Code."))
        return article, int(part)

    def signature_data_url(self) -> str | None:
        if self.signature_png is None:
            return None
        return PNG_DATA_URL + base64.b64encode(self.signature_png).decode("ascii")

    def history(self) -> list[EarlierOffence]:
        return list(self.background.history) if self.background is not None else []

    def to_draft(self, place: ProtocolPlace) -> Draft:
        article, part = self.article_part()
        if not self.plate:
            raise DraftRefused(Text("Type the vehicle's plate."))
        if self.signature_png is None and not self.refused_to_sign:
            raise DraftRefused(
                Text(
                    "The driver has neither signed on the screen nor refused: let him sign,"
                    " or mark that he refused to sign."
                )
            )
        try:
            outcome = ProtocolOutcome(self.outcome)
        except ValueError:
            raise DraftRefused(Text("Choose the outcome: a warning or a fine.")) from None
        return Draft(
            plate=self.plate,
            article=article,
            part=part,
            outcome=outcome,
            place=place,
            description=self.description,
            person_iin=self.iin or None,
            driver_explanation=self.explanation or None,
            driver_signature_png=self.signature_png,
            photo_sha256=tuple(self.photos),
        )


def signature_png(data_url: str) -> bytes:
    """The canvas's ``toDataURL('image/png')``: a PNG, or the screen is refused."""
    if not data_url.startswith(PNG_DATA_URL):
        raise DraftRefused(Text("The driver's signature did not arrive as a picture: sign again."))
    try:
        data = base64.b64decode(data_url[len(PNG_DATA_URL) :], validate=True)
    except (binascii.Error, ValueError):
        raise DraftRefused(
            Text("The driver's signature did not arrive as a picture: sign again.")
        ) from None
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) > MAX_SIGNATURE_BYTES:
        raise DraftRefused(Text("The driver's signature did not arrive as a picture: sign again."))
    return data
