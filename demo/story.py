"""How the demo tells what happens: a rule per chapter, a line per event, and the checks of
the summary (each printed as it is made, all tabled at the end)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()


def chapter(text: str) -> None:
    console.rule(f"[bold]{text}")


def say(text: str) -> None:
    console.print(f"  {escape(text)}", highlight=False)


@dataclass
class Summary:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append((name, passed, detail))
        mark = "[green]ok[/green]" if passed else "[red]FAILED[/red]"
        console.print(f"  {mark} {name}{f': {detail}' if detail else ''}", highlight=False)
        return passed

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    def table(self) -> Table:
        table = Table("check", "result", "detail")
        for name, ok, detail in self.checks:
            table.add_row(name, "[green]ok[/green]" if ok else "[red]FAILED[/red]", detail)
        return table
