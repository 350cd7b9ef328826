"""The architecture decision log in ``adr/``: parse, check, list and create MADR records.

Why a checker: a decision record is only worth keeping if it stays true. Every record must keep the MADR
structure, use a known status, link the record that supersedes it, and name evidence (tests, benchmarks,
code) that still exists — ``tests/architecture/test_adrs.py`` runs :func:`check` on every record.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADR_DIR = ROOT / "adr"

STATUSES = ("proposed", "accepted", "rejected", "deprecated")
SUPERSEDED = re.compile(r"^superseded by \[(\d{4})\]\((\d{4}-[a-z0-9-]+\.md)\)$")
#: The MADR sections every record has, in this order ("More information" is optional).
SECTIONS = (
    "Context and problem statement",
    "Decision drivers",
    "Considered options",
    "Decision outcome",
    "Pros and cons of the options",
    "Evidence",
)
FILENAME = re.compile(r"^(\d{4})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
#: A backticked token that names a file: a relative path, optionally ``::test`` parts; or ``::test`` alone
#: (a further test in the file named just before it).
REFERENCE = re.compile(r"^(?:[\w.-]+/)*[\w.-]+\.(?:py|md|cfg|toml|yml|yaml|txt|json|ini|sh)(?:::[\w\[\]-]+)*$"
                       r"|^(?:[\w.-]+/)+[\w.-]*$|^(?:::[\w\[\]-]+)+$")


@dataclass(frozen=True)
class Adr:
    number: int
    slug: str
    path: Path
    title: str
    status: str
    date: str
    text: str

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def superseded_by(self) -> int | None:
        match = SUPERSEDED.match(self.status)
        return int(match.group(1)) if match else None

    def section(self, heading: str) -> str:
        """The body of one ``## heading`` (empty when missing)."""
        match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", self.text, re.M | re.S)
        return match.group(1) if match else ""

    def evidence(self) -> list[str]:
        """The evidence list items, each joined onto one line."""
        items: list[str] = []
        for line in self.section("Evidence").splitlines():
            if line.startswith("- "):
                items.append(line[2:].strip())
            elif line.startswith("  ") and items:
                items[-1] += " " + line.strip()
        return items


def _field(text: str, name: str) -> str:
    match = re.search(rf"^- {name}:[ \t]*(.*)$", text, re.M)
    if not match:
        return ""
    return re.sub(r"<!--.*?-->", "", match.group(1)).strip()


def parse(path: Path) -> Adr:
    text = path.read_text(encoding="utf-8")
    match = FILENAME.match(path.name)
    number, slug = (int(match.group(1)), match.group(2)) if match else (-1, path.stem)
    heading = re.search(r"^# (\d{4})\. (.+)$", text, re.M)
    title = heading.group(2).strip() if heading else ""
    return Adr(number, slug, path, title, _field(text, "Status"), _field(text, "Date"), text)


def records(adr_dir: Path = ADR_DIR) -> list[Adr]:
    """Every numbered record, in order (``template.md`` and ``README.md`` are not records)."""
    return sorted((parse(p) for p in adr_dir.glob("[0-9][0-9][0-9][0-9]-*.md")), key=lambda a: a.number)


@cache
def _test_names(path: Path) -> frozenset[str]:
    """``name`` and ``Class::name`` for every function and class defined in a Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return frozenset(names)


def resolve(reference: str, root: Path = ROOT, previous: str | None = None) -> str | None:
    """Why ``reference`` does not resolve, or None when it names an existing file (and test)."""
    file, _, name = reference.partition("::")
    if not file:
        if previous is None:
            return f"`{reference}` names a test but no file before it"
        file = previous
    target = root / file
    if not target.exists():
        return f"`{file}` does not exist"
    if name:
        name = re.sub(r"\[.*\]$", "", name)
        if target.suffix != ".py" or name not in _test_names(target):
            return f"`{file}` defines no `{name}`"
    return None


def check_evidence(adr: Adr, root: Path = ROOT) -> list[str]:
    items = adr.evidence()
    if not items:
        return ["the Evidence section lists nothing"]
    problems: list[str] = []
    previous: str | None = None
    for item in items:
        tokens = re.findall(r"`([^`]+)`", item)
        if not tokens or not REFERENCE.match(tokens[0]):
            problems.append(f"evidence item does not start with a `path` or `path::test`: {item[:70]!r}")
        for index, token in enumerate(tokens):
            # Past the first token, a bare file name is prose (`service.py`); paths and tests are checked.
            named = index == 0 or "/" in token or token.startswith("::")
            if named and REFERENCE.match(token) and not token.startswith("/"):
                error = resolve(token, root, previous)
                if error:
                    problems.append(f"evidence: {error}")
                if not token.startswith("::"):
                    previous = token.partition("::")[0]
    return problems


def check(adr: Adr, numbers: set[int], root: Path = ROOT) -> list[str]:
    """Everything wrong with one record (empty when it is sound)."""
    problems: list[str] = []
    if not FILENAME.match(adr.filename):
        problems.append("file name is not NNNN-lower-case-title.md")
    heading = re.search(r"^# (\d{4})\. ", adr.text, re.M)
    if not heading or int(heading.group(1)) != adr.number or not adr.title:
        problems.append(f"first heading must be '# {adr.number:04d}. Title'")
    if adr.status not in STATUSES:
        target = adr.superseded_by
        if target is None:
            problems.append(f"status {adr.status!r} is not one of {', '.join(STATUSES)} "
                            "or 'superseded by [NNNN](NNNN-title.md)'")
        else:
            link = SUPERSEDED.match(adr.status).group(2)  # type: ignore[union-attr]
            if target not in numbers or not (adr.path.parent / link).exists():
                problems.append(f"superseded by {target:04d}, which does not exist ({link})")
            elif not link.startswith(f"{target:04d}-"):
                problems.append(f"superseded by [{target:04d}] links another file ({link})")
            elif target <= adr.number:
                problems.append("a record can only be superseded by a later one")
    try:
        dt.date.fromisoformat(adr.date[:10])
    except ValueError:
        problems.append(f"date {adr.date!r} does not start with YYYY-MM-DD")
    headings = re.findall(r"^## (.+?)\s*$", adr.text, re.M)
    found = [h for h in headings if h in SECTIONS]
    if found != list(SECTIONS):
        missing = [s for s in SECTIONS if s not in headings]
        problems.append(f"sections missing: {', '.join(missing)}" if missing
                        else f"sections out of order: {', '.join(found)}")
    outcome = adr.section("Decision outcome")
    if "Chosen option" not in outcome:
        problems.append("Decision outcome does not say 'Chosen option: ...'")
    if not re.search(r"^### Consequences", outcome, re.M):
        problems.append("Decision outcome has no '### Consequences'")
    options = re.findall(r"^\d+\. ", adr.section("Considered options"), re.M)
    weighed = re.findall(r"^### ", adr.section("Pros and cons of the options"), re.M)
    if len(options) < 2:
        problems.append("fewer than two considered options")
    elif len(weighed) != len(options):
        problems.append(f"{len(options)} considered options but {len(weighed)} weighed in 'Pros and cons'")
    return problems + check_evidence(adr, root)


def check_all(adr_dir: Path = ADR_DIR, root: Path = ROOT) -> dict[str, list[str]]:
    """Problems by file name, for every record with any, plus the log's own consistency."""
    adrs = records(adr_dir)
    numbers = [a.number for a in adrs]
    found: dict[str, list[str]] = {}
    readme = (adr_dir / "README.md").read_text(encoding="utf-8")
    for adr in adrs:
        problems = check(adr, set(numbers), root)
        if numbers.count(adr.number) > 1:
            problems.append(f"number {adr.number:04d} is used twice")
        row = re.search(rf"^\| \[\d{{4}}\]\({re.escape(adr.filename)}\) \|.*\| ([^|]+) \|$", readme, re.M)
        if row is None:
            problems.append("not listed in adr/README.md (`ecommerce adr new` adds the line)")
        elif row.group(1).strip().split(" [")[0] != adr.status.split(" [")[0]:
            problems.append(f"adr/README.md says {row.group(1).strip()!r}, the record says {adr.status!r}")
        if problems:
            found[adr.filename] = problems
    return found


def log_lines(adrs: list[Adr]) -> list[str]:
    return [f"{a.number:04d}  {a.status:<12}  {a.date[:10]}  {a.title}" for a in adrs]


def slugify(title: str, limit: int = 60) -> str:
    """``"Use X for Y!"`` -> ``use-x-for-y``, cut at a word boundary past ``limit`` characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit + 1].rsplit("-", 1)[0] if "-" in slug[:limit + 1] else slug[:limit]
    return slug


def new(title: str, *, number: int | None = None, adr_dir: Path = ADR_DIR, today: dt.date | None = None) -> Path:
    """Write the next numbered record from ``template.md`` (status ``proposed``) and list it in the
    README's table. Returns its path."""
    title = " ".join(title.split())
    if not title or not slugify(title):
        raise ValueError("an ADR needs a title with letters or digits")
    existing = records(adr_dir)
    if number is None:
        number = max((a.number for a in existing), default=0) + 1
    if any(a.number == number for a in existing):
        raise ValueError(f"ADR {number:04d} already exists")
    path = adr_dir / f"{number:04d}-{slugify(title)}.md"
    template = (adr_dir / "template.md").read_text(encoding="utf-8")
    text = re.sub(r"^# NNNN\. .*$", f"# {number:04d}. {title}", template, count=1, flags=re.M)
    text = re.sub(r"^- Date: .*$", f"- Date: {(today or dt.date.today()).isoformat()}", text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    _list_in_readme(adr_dir / "README.md", number, path.name, title)
    return path


def _list_in_readme(readme: Path, number: int, filename: str, title: str) -> None:
    """Insert the record's row into the README's table, keeping it in number order."""
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    row = f"| [{number:04d}]({filename}) | {title} | proposed |\n"
    rows = [i for i, line in enumerate(lines) if re.match(r"^\| \[\d{4}\]\(", line)]
    if not rows:
        lines.append("\n" + row)
    else:
        after = [i for i in rows if int(lines[i][3:7]) < number]
        lines.insert((after[-1] if after else rows[0] - 1) + 1, row)
    readme.write_text("".join(lines), encoding="utf-8")
