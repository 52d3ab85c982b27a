"""Progress for long ``erap-registry`` commands (the audit verification, the backup): a rich
bar on standard error that appears only once a stage has run long enough to need one, with the
stages named and the counts grouped in the reader's language."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text as RichText

from i18n import Translator

__all__ = ["LiveProgress"]

# A stage shorter than this shows no bar: short runs print only their result.
_SHOW_PROGRESS_AFTER_S = 1.0
_err = Console(stderr=True)


class _Counts(ProgressColumn):
    """``1 234 567/2 000 000``: the counts with the reader's digit grouping (CLDR)."""

    def __init__(self, reader: Translator) -> None:
        super().__init__()
        self._reader = reader

    def render(self, task: Task) -> RichText:
        done = self._reader.number(int(task.completed))
        return RichText(f"{done:>10}/{self._reader.number(int(task.total or 0))}")


class LiveProgress:
    """A rich progress bar that appears only once a check has run long enough to need one."""

    def __init__(self, reader: Translator) -> None:
        self._reader = reader
        self._started = time.monotonic()
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._bar is None:
            if not _err.is_terminal or time.monotonic() - self._started < _SHOW_PROGRESS_AFTER_S:
                return
            self._bar = Progress(
                TextColumn("{task.description:<22}"),
                BarColumn(),
                _Counts(self._reader),
                TimeRemainingColumn(),
                console=_err,
                transient=True,
            )
            self._bar.start()
        task = self._tasks.get(stage)
        if task is None:
            # The stage is the verifier's English name, marked for translation there.
            description = self._reader.gettext(stage)
            task = self._tasks[stage] = self._bar.add_task(description, total=total)
        self._bar.update(task, completed=done, total=total)

    def __enter__(self) -> LiveProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
