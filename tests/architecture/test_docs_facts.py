"""Counts and lists the docs write by hand match the code they describe: the demo catalog, the number of
modules, each module's tables, the benchmark dataset's sizes, the recommendation reasons. Lists that can
be generated are (``<!-- generated: NAME -->`` blocks, ecommerce/devtools/docsite/hooks.py); these are
the facts that stay in sentences."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from ecommerce.devtools.dataset.sizes import Sizes
from ecommerce.devtools.docsite import pages
from ecommerce.devtools.drawings.facts import collect
from ecommerce.modules.catalog.seed import summary as demo_catalog
from ecommerce.modules.recommendations import ranking, schemas

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = {word: n for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
#: Where the demo catalog's line (``demo_catalog()``, what ``ecommerce seed`` prints) is quoted.
DEMO_CATALOG_PAGES = ("README.md", "docs/index.md", "docs/cli.md", "docs/modules/catalog.md")
#: How a page words the demo catalog: any such phrase must be the summary, word for word.
DEMO_PHRASE = re.compile(r"\d+ products in \d+ categories \([^)]*\), \d+ brands, \d+ warehouses")


def _text(path: str) -> str:
    """The page with every run of whitespace (newlines included) as one space."""
    return " ".join((ROOT / path).read_text(encoding="utf-8").split())


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


@pytest.mark.parametrize("page", DEMO_CATALOG_PAGES)
def test_the_demo_catalog_is_described_as_the_seeder_prints_it(page: str) -> None:
    text = _text(page)
    assert demo_catalog() in text, f"{page} should quote: {demo_catalog()}"
    assert set(DEMO_PHRASE.findall(text)) == {demo_catalog()}


def test_every_count_of_the_modules_is_the_registry_s() -> None:
    installed = len(collect().modules)
    pattern = re.compile(r"\b(?:all|the) (\w+) (?:built-in |installed )?modules (?:enabled|installed)\b", re.I)
    found = []
    for path in [*ROOT.glob("docs/**/*.md"), ROOT / "README.md", ROOT / "CONTRIBUTING.md"]:
        for match in pattern.finditer(" ".join(path.read_text(encoding="utf-8").split())):
            if _number(match.group(1)) != installed:
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)!r}, the registry has {installed}")
    assert not found, "\n".join(found)
    assert pages.module_list().startswith(f"{installed} modules:")
    assert all(f"[{name}](modules/{name}.md)" in pages.module_list() for name in collect().modules)


def test_each_module_page_counts_the_module_s_tables() -> None:
    """"the eight tables", "owns five tables": the first count of tables on a module's page is its own."""
    wrong, checked = [], 0
    for name, module in collect().modules.items():
        page = ROOT / "docs" / "modules" / f"{name}.md"
        claims = re.findall(r"\b(?:the|owns) (\w+) tables\b", " ".join(page.read_text(encoding="utf-8").split()))
        if claims:
            checked += 1
            if _number(claims[0]) != len(module.tables):
                wrong.append(f"docs/modules/{name}.md says {claims[0]} tables: {module.tables}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 5  # users, catalog, orders, payments, recommendations count theirs


def test_the_architecture_page_lists_every_module_s_jobs() -> None:
    """The table of background jobs on the architecture page names each module's jobs and their intervals
    as the modules declare them: a job added without a row (or a row left for a job gone) fails here."""
    from ecommerce.kernel.registry import discover

    declared = {(name, job.name, f"{job.every:g} s") for name, module in discover().items() for job in module.jobs}
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = {match.groups() for match in re.finditer(r"^\| (\w+) \| `([a-z-]+)` \| (\d+ s) \|", text, re.M)}
    assert listed == declared, f"missing: {sorted(declared - listed)}, not a job: {sorted(listed - declared)}"


def test_the_benchmark_dataset_sizes_are_the_generator_s() -> None:
    one = Sizes.for_scale(1)
    n = "N \N{MULTIPLICATION SIGN}"
    cli = _text("docs/cli.md")
    for size in (f"{n} {one.users:,} customers", f"{n} {one.products:,} products", f"{n} {one.orders:,} orders"):
        assert size in cli
    index = _text("docs/index.md")
    assert (f"{n} {one.orders // 1000}k orders, {n} {one.products // 1000}k products, "
            f"{n} {one.users // 1000}k customers") in index


def test_every_recommendation_reason_is_explained() -> None:
    """The recommendations page prints ``ranking.EXPLAINED``; it must cover every reason the code gives
    and the API schema publishes."""
    assert tuple(ranking.EXPLAINED) == ranking.REASONS
    assert set(get_args(schemas.Reason)) == set(ranking.REASONS)
    table = pages.recommendation_reasons()
    assert all(f"| `{reason}` |" in table for reason in ranking.REASONS)
    assert "<!-- generated: recommendation-reasons -->" in _text("docs/modules/recommendations.md")


def test_the_architecture_page_shows_the_anatomy_generated_from_the_check() -> None:
    """The anatomy is a generated table (every role, every module with its declared gaps), not a drawing by
    hand: a module added or a gap declared shows on the page by itself."""
    from ecommerce.kernel import anatomy

    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "<!-- generated: module-anatomy -->" in page
    assert "+---" not in page, "a hand-drawn box is back on the architecture page"
    table = pages.module_anatomy()
    assert all(f"| `{role.path}` |" in table for role in anatomy.ROLES)
    for name, (module, _) in anatomy.installed().items():
        row = next(line for line in table.splitlines() if line.startswith(f"| [{name}](modules/{name}.md) |"))
        assert all(f"**{role}**: {why}" in row for role, why in module.lacks.items())
