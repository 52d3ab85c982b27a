"""A bank's certified POS on the ECR serial link (see ``terminal.ecr`` for the wire format).

It charges each reference at most once and remembers the outcome, as a real POS journal does.
Modes: approve, decline, lose-answer (charges, then never answers the purchase, so the ECR has
to ask with STS). A JSON-lines journal records what was charged (masked card numbers only).
"""

from __future__ import annotations

import json
import random
from enum import StrEnum
from pathlib import Path

import serial
import typer

from terminal.ecr import (
    UNKNOWN_REFERENCE,
    EcrError,
    EcrLink,
)

MASKED_TEST_CARD = "476173******0010"


class PosMode(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    LOSE_ANSWER = "lose-answer"


def serve(device: str, mode: PosMode, journal: Path) -> None:
    outcomes: dict[str, list[str]] = {}
    with serial.Serial(device, 115200, timeout=0.5) as port:
        link = EcrLink(port)
        print("bank POS ready", flush=True)
        while True:
            try:
                fields = link.receive(timeout_s=3600)
            except EcrError:
                continue
            kind, reference = fields[0], fields[1]
            if kind == "PUR":
                fresh = reference not in outcomes
                if fresh:
                    outcomes[reference] = _charge(reference, int(fields[2]), mode)
                    with journal.open("a", encoding="utf-8") as out:
                        out.write(
                            json.dumps(
                                {
                                    "reference": reference,
                                    "amount_minor": int(fields[2]),
                                    "result": outcomes[reference][2],
                                }
                            )
                            + "\n"
                        )
                if mode is PosMode.LOSE_ANSWER and fresh:
                    continue
                answer = outcomes[reference]
            elif kind == "STS":
                answer = outcomes.get(reference) or [
                    "RES",
                    reference,
                    UNKNOWN_REFERENCE,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "unknown",
                ]
            else:
                continue
            try:
                link.send(answer)
            except EcrError:
                continue


def _charge(reference: str, amount_minor: int, mode: PosMode) -> list[str]:
    if mode is PosMode.DECLINE:
        return ["RES", reference, "51", "", "", "", "", "", "", "", "insufficient funds"]
    rrn = f"{random.randrange(10**12):012d}"
    return [
        "RES",
        reference,
        "00",
        rrn[-6:],
        rrn,
        rrn[-6:],
        MASKED_TEST_CARD,
        "visa",
        "A0000000031010",
        "POS00042",
        "approved",
    ]


def main(
    device: str = typer.Option(..., help="the serial port (or pty) the ECR link arrives on"),
    mode: PosMode = typer.Option(PosMode.APPROVE, help="how to answer purchases"),
    journal: Path = typer.Option(..., help="JSON-lines journal of what was charged"),
) -> None:
    """Run the bank POS simulator until interrupted."""
    serve(device, mode, journal)


if __name__ == "__main__":
    typer.run(main)
