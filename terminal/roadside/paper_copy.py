"""The driver's copy of the protocol as it goes on paper, line by line, in the driver's language
(Kazakh or Russian; pure layout, like ``terminal.receipt.receipt_lines``). The printer adapter
(``terminal.roadside.printer``) prints the lines and then the QR code of the driver's case link.

The protocol number is the case number (the registry's blocks make it unique offline), so the
copy names the case the driver pays or appeals, and its link works once the protocol reaches the
registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contract.roadside import DriverSignature, ProtocolOutcome, RoadsideProtocol
from i18n import Language, Text, Translator
from terminal.money import paper_money
from terminal.receipt import Agency, agency_name

HEADING_LINES = 2


@dataclass(frozen=True)
class ProtocolCopy:
    agency: Agency
    protocol: RoadsideProtocol
    offence: Mapping[Language, str]  # the code table's title, per language
    officer_name: str
    case_url: str
    on_the_spot_minor: int | None  # None for a warning
    discount_days: int = 7


def case_url(template: str, case_number: str) -> str:
    return template.format(case_number=case_number)


def protocol_lines(copy: ProtocolCopy, t: Translator) -> list[str]:
    protocol = copy.protocol
    place = protocol.place
    if place.manual:
        where = Text("Place (typed, no GPS fix): %(address)s", address=place.address or "")
    elif place.address:
        where = Text(
            "Place: %(lat).5f, %(lon).5f (%(address)s)",
            lat=place.lat,
            lon=place.lon,
            address=place.address,
        )
    else:
        where = Text("Place: %(lat).5f, %(lon).5f", lat=place.lat, lon=place.lon)
    title = copy.offence.get(t.language) or copy.offence.get("ru") or ""
    lines = [
        agency_name(copy.agency, t.language),
        t.text(Text("ADMINISTRATIVE OFFENCE PROTOCOL")),
        t.text(Text("Protocol and case: %(number)s", number=protocol.protocol_number)),
        t.text(
            Text(
                "Drawn up: %(time)s (Astana time)",
                time=t.date_time(protocol.drawn_up_at, seconds=False),
            )
        ),
        t.text(
            Text(
                "Officer: %(name)s, IIN %(iin)s",
                name=copy.officer_name,
                iin=protocol.officer_iin,
            )
        ),
        t.text(Text("Vehicle: %(plate)s", plate=protocol.plate)),
    ]
    if protocol.person_iin:
        lines.append(t.text(Text("Person: IIN %(iin)s", iin=protocol.person_iin)))
    lines += [
        t.text(Text("Offence: %(title)s", title=title)),
        t.text(
            Text(
                "Legal basis: %(basis)s",
                basis=Text(
                    "CoAO RK art. %(article)s part %(part)s",
                    article=protocol.article,
                    part=protocol.part,
                ),
            )
        ),
        t.text(where),
        t.text(Text("What happened: %(text)s", text=protocol.description)),
    ]
    if protocol.driver_explanation:
        lines.append(
            t.text(Text("Driver's explanation: %(text)s", text=protocol.driver_explanation))
        )
    if protocol.outcome is ProtocolOutcome.WARNING:
        lines.append(t.text(Text("OUTCOME: WARNING (no fine)")))
    else:
        assert protocol.amount_minor is not None
        lines.append(
            t.text(Text("Fine: %(amount)s", amount=paper_money(protocol.amount_minor, t.language)))
        )
        if copy.on_the_spot_minor is not None:
            lines.append(
                t.text(
                    Text(
                        "Paid now or within %(days)s days: %(amount)s",
                        days=copy.discount_days,
                        amount=paper_money(copy.on_the_spot_minor, t.language),
                    )
                )
            )
    if protocol.driver_signature is DriverSignature.SIGNED:
        lines.append(t.text(Text("The driver signed the protocol on the screen.")))
    else:
        lines.append(t.text(Text("The driver refused to sign the protocol.")))
    lines.append(t.text(Text("Scan to see the case:")))
    return lines
