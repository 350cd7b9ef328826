"""The docs site's sources say what a thing is, never "issue 14" or "the seed": a reader of the site has
neither the issue tracker nor the brief's file. Name the work instead ("the attack review", "the SQL
benchmarks") and link [the brief](brief.md) for what the project was asked to build."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Internal references a reader cannot follow.
INTERNAL = re.compile(r"\bissues? #?\d+|\bthe seed\b|\bseed(?:'s| memo)\b|^- Seed:", re.IGNORECASE | re.MULTILINE)



def sources() -> list[Path]:
    """What the docs site is built from: its pages, the ADRs it includes, and CONTRIBUTING.md."""
    return sorted([*(ROOT / "docs").rglob("*.md"), *(ROOT / "adr").glob("*.md"), ROOT / "CONTRIBUTING.md"])


def references(text: str) -> list[str]:
    return [f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}" for m in INTERNAL.finditer(text)]


def test_the_docs_name_what_they_refer_to() -> None:
    found = []
    for path in sources():
        name = path.relative_to(ROOT).as_posix()
        found += [f"{name} {where}" for where in references(path.read_text(encoding="utf-8"))]
    assert not found, "say what the thing is instead (see docs/brief.md):\n" + "\n".join(found)


def test_the_check_catches_internal_references() -> None:
    planted = "Fixed in issue 14.\nThe seed's memo chose it; issues 9 and 10 measure it.\n- Seed: the memo\n"
    assert len(references(planted)) == 4
    assert references("`ecommerce seed` loads the demo; the seeder is idempotent; issue a token") == []
