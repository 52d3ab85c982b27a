"""What the verifier found, and how it reports progress while it runs.

Problems and warnings are sentences for the prosecutor, kept as lazy ``i18n.Text``: the command
line renders them in the language it speaks, the API in the request's, the console in the
officer's; ``str(problem)`` is the English sentence for logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from i18n import N_, Message

MAX_LISTED_PROBLEMS = 1000
"""A wholesale rewrite can produce a problem per row; the report lists this many and counts
the rest."""

_PROGRESS_EVERY = 8192
ProgressCallback = Callable[[str, int, int], None]
"""Called as (stage, done, total) while a long verification runs. ``stage`` is one of the
English names below (marked for translation: a screen shows ``gettext(stage)``)."""

STAGE_TREE_HEADS = N_("tree heads")
STAGE_LEDGER = N_("ledger entries")
STAGE_NODES = N_("Merkle nodes")
STAGE_RECORDS = N_("fixations and cases")


@dataclass
class AuditReport:
    """What the verifier found. ``problems`` are signs of tampering, one sentence each;
    ``warnings`` are facts a reader should know that are not tampering."""

    problems: list[Message] = field(default_factory=list)
    problems_not_listed: int = 0
    warnings: list[Message] = field(default_factory=list)
    entries_checked: int = 0
    tree_heads_checked: int = 0
    nodes_checked: int = 0
    records_checked: int = 0
    inclusion_proofs_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.problems_not_listed

    @property
    def problems_found(self) -> int:
        return len(self.problems) + self.problems_not_listed

    def problem(self, sentence: Message) -> None:
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(sentence)
        else:
            self.problems_not_listed += 1


class Progress:
    """Counts one stage's steps and calls back every ``_PROGRESS_EVERY`` of them."""

    def __init__(self, callback: ProgressCallback | None, stage: str, total: int) -> None:
        self._callback, self._stage, self._total, self.done = callback, stage, total, 0

    def step(self) -> None:
        self.done += 1
        if self._callback is not None and self.done % _PROGRESS_EVERY == 0:
            self._callback(self._stage, self.done, self._total)

    def finish(self) -> None:
        if self._callback is not None:
            self._callback(self._stage, self.done, self._total)
