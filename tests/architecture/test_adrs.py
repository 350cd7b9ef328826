"""The decision log stays sound: MADR structure, known statuses, supersede links that resolve, and
evidence (tests, benchmarks, code) that still exists. ``ecommerce adr new`` and ``list`` work."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ecommerce.devtools import adr

ROOT = Path(__file__).resolve().parents[2]


def test_every_record_is_sound() -> None:
    problems = adr.check_all(ROOT / "adr", ROOT)
    report = "\n".join(f"adr/{name}: {p}" for name, found in problems.items() for p in found)
    assert not problems, "fix these records (`ecommerce adr check` lists them):\n" + report


def test_the_log_covers_the_decisions_the_issue_names() -> None:
    titles = " | ".join(a.title.lower() for a in adr.records())
    for words in ("record architecture decisions", "modular monolith", "strangler fig", "database",
                  "full-text search", "jwt", "card tokenization", "outbox", "domain synchronous",
                  "throttling", "caching", "keyset pagination", "inventory reservation",
                  "sql for transactional modules", "nosql"):
        assert words in titles, words


def test_every_record_links_real_evidence() -> None:
    for record in adr.records():
        assert record.evidence(), record.filename
        assert not adr.check_evidence(record, ROOT), record.filename


@pytest.fixture
def log(tmp_path: Path) -> Path:
    copy = tmp_path / "adr"
    shutil.copytree(ROOT / "adr", copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _problems(log: Path, name: str) -> list[str]:
    return adr.check_all(log, ROOT).get(name, [])


MONOLITH = "0002-modular-monolith-for-launch.md"
STRANGLER = "0003-strangler-fig-migration-path.md"


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("- Status: accepted", "- Status: maybe", "status 'maybe' is not one of"),
    ("- Status: accepted", "- Status: superseded by [0099](0099-nothing.md)",
     "superseded by 0099, which does not exist"),
    ("- Status: accepted", "- Status: superseded by [0001](0001-record-architecture-decisions.md)",
     "only be superseded by a later one"),
    ("- Date: 2026-11-25", "- Date: soon", "does not start with YYYY-MM-DD"),
    ("## Decision drivers", "## Drivers", "sections missing: Decision drivers"),
    ("### Consequences", "### Results", "no '### Consequences'"),
    ("Chosen option:", "We picked:", "does not say 'Chosen option"),
    ("3. A modular monolith", "3. A modular monolith\n4. A fourth option nobody weighed", "4 considered options but 3"),
    ("- `ecommerce/kernel/module.py` —", "- `ecommerce/kernel/modules.py` —",
     "`ecommerce/kernel/modules.py` does not exist"),
    ("::test_contracts_hold_on_the_real_tree", "::test_that_was_renamed", "defines no `test_that_was_renamed`"),
    ("- `setup.cfg` —", "- setup.cfg —", "does not start with a `path`"),
    ("- Status: accepted", "- Status: proposed", "adr/README.md says 'accepted', the record says 'proposed'"),
])
def test_the_checker_catches_a_broken_record(log: Path, old: str, new: str, expected: str) -> None:
    assert not _problems(log, MONOLITH)
    _edit(log / MONOLITH, old, new)
    assert any(expected in p for p in _problems(log, MONOLITH)), _problems(log, MONOLITH)


def test_an_empty_evidence_section_is_refused(log: Path) -> None:
    path = log / MONOLITH
    text = path.read_text()
    path.write_text(re.sub(r"(## Evidence\n).*?(## More information)", r"\1\n\2", text, flags=re.S))
    assert "the Evidence section lists nothing" in _problems(log, MONOLITH)


def test_superseding_a_record_with_a_later_one_is_sound(log: Path) -> None:
    _edit(log / MONOLITH, "- Status: accepted", f"- Status: superseded by [0003]({STRANGLER})")
    assert _problems(log, MONOLITH) == [
        f"adr/README.md says 'accepted', the record says 'superseded by [0003]({STRANGLER})'"]
    _edit(log / "README.md", "Build a modular monolith for the launch | accepted |",
          f"Build a modular monolith for the launch | superseded by [0003]({STRANGLER}) |")
    assert not _problems(log, MONOLITH)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecommerce", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_adr_new_writes_the_next_record_and_list_prints_the_log(log: Path) -> None:
    last = adr.records(log)[-1].number
    made = _cli("adr", "new", "Use a message broker between carved-out services", "--dir", str(log))
    assert made.returncode == 0, made.stderr
    path = Path(made.stdout.strip())
    assert path.name == f"{last + 1:04d}-use-a-message-broker-between-carved-out-services.md"
    record = adr.parse(path)
    assert (record.title, record.status, record.date) == (
        "Use a message broker between carved-out services", "proposed", dt.date.today().isoformat())
    assert f"| [{last + 1:04d}]({path.name}) | Use a message broker" in (log / "README.md").read_text()
    # The new record has the whole structure; only its placeholder evidence is left to fill in.
    problems = adr.check_all(log, ROOT)[path.name]
    assert problems and all(p.startswith("evidence") for p in problems), problems

    listed = _cli("adr", "list", "--dir", str(log))
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[-1].startswith(f"{last + 1:04d}  proposed")
    assert len(listed.stdout.splitlines()) == len(adr.records(log))  # numbers may have gaps (reserved ones)

    reserved = _cli("adr", "new", "A reserved number", "--number", "90", "--dir", str(log))
    assert Path(reserved.stdout.strip()).name == "0090-a-reserved-number.md"
    readme = (log / "README.md").read_text()
    assert readme.index(path.name) < readme.index("0090-a-reserved-number.md")
    again = _cli("adr", "new", "Twice", "--number", "90", "--dir", str(log))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert _cli("adr", "new", "--dir", str(log)).returncode == 2
    assert adr.slugify("Use a very long title that goes on and on past the sixty character limit") == (
        "use-a-very-long-title-that-goes-on-and-on-past-the-sixty")


def test_adr_check_reports_problems_with_exit_status_1(log: Path) -> None:
    assert _cli("adr", "check", "--dir", str(log)).returncode == 0
    _edit(log / MONOLITH, "- Status: accepted", "- Status: done")
    broken = _cli("adr", "check", "--dir", str(log))
    assert broken.returncode == 1 and f"{MONOLITH}: status 'done'" in broken.stderr
