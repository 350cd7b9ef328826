"""mkdocs hooks (``hooks:`` in ``mkdocs.yml``): add the generated pages and the diagrams to the site, and
put every module page, decision record and performance page in the nav, so a module, an ADR or a
benchmark page that lands is published without anyone editing the nav.

Generated: ``modules/index.md`` and a "Reference" section appended to every ``modules/<name>.md`` (a
whole page when a module has none), ``reference/http-api.md`` and ``reference/openapi.json``,
``reference/python-api.md``, a page per ADR that has no stub, and the markers
``<!-- generated: NAME -->`` in hand-written pages (``adr-log``, ``settings``, ``event-flows``,
``event-payloads``, ``performance-pages``, ``contributing``, and those in ``SIMPLE``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ecommerce.devtools import adr
from ecommerce.devtools.docsite import modules, openapi, pages, payloads
from ecommerce.devtools.drawings.facts import collect

ROOT = Path(__file__).resolve().parents[3]
DIAGRAMS = ROOT / "diagrams"
MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")
#: Generated blocks that need nothing but the code.
SIMPLE = {
    "module-list": pages.module_list,
    "entity-drawings": pages.entity_drawings,
    "recommendation-reasons": pages.recommendation_reasons,
    "checkout-sequence": pages.checkout_sequence,
    "module-anatomy": pages.module_anatomy,
}


def _docs(config: MkDocsConfig) -> Path:
    return Path(config["docs_dir"])


def _section(nav: list[Any], title: str) -> list[Any]:
    for item in nav:
        if isinstance(item, dict) and title in item:
            section: list[Any] = item[title]
            return section
    section = []
    nav.append({title: section})
    return section


def _listed(items: list[Any]) -> set[str]:
    found: set[str] = set()
    for item in items:
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, dict):
            for value in item.values():
                found |= _listed(value) if isinstance(value, list) else {value}
    return found


def _ensure(nav: list[Any], title: str, wanted: list[tuple[str, str | None]]) -> None:
    """Append to the nav section ``title`` every wanted page the nav does not list anywhere yet."""
    present = _listed(nav)
    section = _section(nav, title)
    for path, label in wanted:
        if path not in present:
            section.append({label: path} if label else path)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    nav = config["nav"]
    if nav is not None:
        facts = collect()
        _ensure(nav, "Modules", [("modules/index.md", "Overview")]
                + [(f"modules/{name}.md", None) for name in facts.modules])
        _ensure(nav, "Decisions", [(f"adr/{r.filename}", None) for r in adr.records()])
        performance = sorted((_docs(config) / "performance").glob("*.md"))
        _ensure(nav, "Performance", [(f"performance/{p.name}", None) for p in performance])
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    def add(src_uri: str, content: str | None = None, abs_src_path: str | None = None) -> None:
        if files.get_file_from_path(src_uri) is not None:
            return  # a hand-written page wins
        if content is not None:
            files.append(File.generated(config, src_uri, content=content))
        elif abs_src_path is not None:
            files.append(File.generated(config, src_uri, abs_src_path=abs_src_path))

    facts = collect()
    add("modules/index.md", "# Modules\n\nEvery installed module, from the registry.\n\n" + modules.overview(facts))
    for name, module in facts.modules.items():
        add(f"modules/{name}.md", f"# {name}\n\n{module.description}.\n")
    for record in adr.records():
        add(f"adr/{record.filename}", f'--8<-- "adr/{record.filename}"\n')
    spec = openapi.document()
    add("reference/http-api.md", "# HTTP API reference\n\nGenerated from the OpenAPI document the app "
        "serves at `/docs/openapi.json`.\n\n" + openapi.markdown(spec))
    add("reference/openapi.json", json.dumps(spec, indent=2, sort_keys=True, default=str))
    add("reference/python-api.md", pages.python_api())
    for image in sorted(DIAGRAMS.glob("*.png")):
        add(f"diagrams/{image.name}", abs_src_path=str(image))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    uri = page.file.src_uri
    match = re.fullmatch(r"modules/(\w+)\.md", uri)
    if match and match.group(1) in collect().modules:
        markdown = markdown.rstrip() + "\n\n" + modules.reference(match.group(1))

    def generated(found: re.Match[str]) -> str:
        name = found.group(1)
        if name == "adr-log":
            return pages.decision_log()
        if name == "settings":
            return pages.settings_table(_docs(config) / "configuration.md")
        if name == "contributing":  # CONTRIBUTING.md, its links made relative to docs/
            return (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8").replace("](docs/", "](")
        if name == "event-flows":
            return pages.event_flows()
        if name == "event-payloads":
            return payloads.payload_table()
        if name == "performance-pages":
            return pages.performance_pages(_docs(config))
        if name in SIMPLE:
            return SIMPLE[name]()
        raise ValueError(f"{uri}: unknown generated block {name!r}")

    return MARKER.sub(generated, markdown)
