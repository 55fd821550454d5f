"""Tables of figures: printed as each row arrives, and rendered as Markdown at the end."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field


def num(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ms(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}×"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        row = [str(cell) for cell in cells]
        row += [""] * (len(self.columns) - len(row))
        self.rows.append(row)
        print("  " + " | ".join(f"{c}: {v}" for c, v in zip(self.columns, row) if v), flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def skip(self, name: str, why: str) -> None:
        self.add(name, *(["skipped"] + [""] * (len(self.columns) - 2)))
        self.note(f"{name}: skipped — {why}")

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        if self.rows:
            lines.append("| " + " | ".join(self.columns) + " |")
            lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|")
            for row in self.rows:
                lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        else:
            lines.append("(no rows)")
        if self.notes:
            lines.append("")
            lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines) + "\n"


def section(title: str) -> None:
    print(f"\n== {title}", file=sys.stdout, flush=True)
