"""Generated parts of hand-written pages: the decision log, every setting, the performance pages that
exist, the installed modules and their anatomy, the ER drawings, the recommendation reasons, the
checkout sequence, and the Python API page of the facades. Whatever a page would otherwise list by hand
comes from here, so it cannot drift from the code."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ecommerce.devtools import adr
from ecommerce.devtools.drawings.facts import collect
from ecommerce.kernel import module_settings
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import PREFIX, Settings


def decision_log() -> str:
    rows = ["| ADR | Decision | Status | Date |", "|---|---|---|---|"]
    for record in adr.records():
        status = record.status
        target = record.superseded_by
        if target is not None:
            link = adr.SUPERSEDED.match(status).group(2)  # type: ignore[union-attr]
            status = f"superseded by [{target:04d}](adr/{link})"
        rows.append(f"| [{record.number:04d}](adr/{record.filename}) | {record.title} | {status} | "
                    f"{record.date[:10]} |")
    return "\n".join(rows) + "\n"


def _default(value: object) -> str:
    if value is None or value == () or value == {}:
        return "unset"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: Fields of ``Settings`` that are no variable: what the modules' settings are read from.
NOT_VARIABLES = frozenset({"module_settings", "environ", "config_file", "config_rest"})


def settings_table(configuration_page: Path) -> str:
    """Every ``ECOMMERCE_*`` setting from the ``Settings`` dataclass and from each installed module's
    settings, its default, and the section of the
    configuration page that explains it. A setting the page does not explain fails the build."""
    text = configuration_page.read_text(encoding="utf-8")
    sections = [(m.start(), m.group(1)) for m in re.finditer(r"^## (.+)$", text, re.M)]
    rows = ["| variable | default | explained in |", "|---|---|---|"]
    missing = []
    defaults = Settings()
    found: list[tuple[str, object, str]] = []  # (variable, default, what the table shows as the variable)
    for field in dataclasses.fields(Settings):
        if field.name in NOT_VARIABLES:
            continue
        if field.name == "module_database_urls":
            variable = f"{PREFIX}DATABASE_URL_<MODULE>"
        elif field.name == "module_replica_urls":
            variable = f"{PREFIX}DATABASE_REPLICA_URL_<MODULE>"
        else:
            variable = f"{PREFIX}{field.name.upper()}"
        found.append((variable, getattr(defaults, field.name), f"`{variable}`"))
    for name, module in sorted(discover().items()):  # each module's own settings, with their older names
        if module.settings is not None:
            for variable, _, default, spec in module_settings.variables(name, module.settings):
                older = f" (older: {', '.join(f'`{old}`' for old in spec.legacy)})" if spec.legacy else ""
                found.append((variable, default, f"`{variable}`{older}"))
    for variable, default, shown in found:
        where = text.find(f"`{variable}`")
        if where < 0:
            missing.append(variable)
            continue
        title = [t for start, t in sections if start < where][-1] if sections[0][0] < where else "top"
        anchor = re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")
        rows.append(f"| {shown} | `{_default(default)}` | [{title}](configuration.md#{anchor}) |")
    if missing:
        raise ValueError(f"docs/configuration.md does not explain {', '.join(missing)}: add a row for each")
    return "\n".join(rows) + "\n"


def performance_pages(docs_dir: Path) -> str:
    pages = sorted(p for p in (docs_dir / "performance").glob("*.md") if p.name != "index.md")
    if not pages:
        return ("The measured pages are not published yet: the SQL benchmarks (`performance/sql.md`) and "
                "the HTTP load tests (`performance/http.md`) land here with their numbers.\n")
    lines = []
    for page in pages:
        heading = re.search(r"^# (.+)$", page.read_text(encoding="utf-8"), re.M)
        lines.append(f"- [{heading.group(1) if heading else page.stem}]({page.name})")
    return "\n".join(lines) + "\n"


def python_api() -> str:
    out = ["# Python API of the module facades", "",
           "What a script, a job or another module may import: `ecommerce.modules.<name>.api` (plain "
           "synchronous functions and frozen dataclasses; no web server or event loop needed), each "
           "module's integration events, and the kernel's entry point. Generated from the docstrings "
           "with mkdocstrings.", "",
           "```python", "import ecommerce", "from ecommerce.modules.catalog import api as catalog", "",
           "kernel = ecommerce.bootstrap(migrate=True)   # binds every module's database",
           "print(catalog.snapshot([1, 2, 3]))", "kernel.close()", "```", ""]
    for name, module in collect().modules.items():
        package = Path(__file__).resolve().parents[2] / "modules" / name
        parts = [part for part in ("api", "events") if (package / f"{part}.py").exists()]
        if not parts:
            continue
        out += [f"## {name}", "", f"{module.description}. [Reference](../modules/{name}.md).", ""]
        if "api" not in parts:
            out += ["No facade: no other module calls this one; it only reacts to events.", ""]
        for part in parts:
            out += [f"::: ecommerce.modules.{name}.{part}", "    options:", "      heading_level: 3", ""]
    out += ["## The module contract", "",
            "::: ecommerce.kernel.module.Module", "    options:", "      heading_level: 3", ""]
    return "\n".join(out) + "\n"


def event_flows() -> str:
    """Every (event, consumer) pair the registry wires up, and how it is delivered."""
    facts = collect()

    def link(name: str) -> str:
        return f"[{name}](modules/{name}.md)" if name in facts.modules else f"{name} (not installed)"

    rows = ["| event | published by | consumed by | handler (inbox name) | delivery |", "|---|---|---|---|---|"]
    for flow in facts.flows:
        mode = "atomic with the inbox" if flow.atomic else "non-atomic, idempotent"
        rows.append(f"| `{flow.event}` | {link(flow.publisher)} | {link(flow.consumer)} | `{flow.handler}` | "
                    f"{mode} |")
    return "\n".join(rows) + "\n"


def module_list() -> str:
    """Every module of the registry, its description and its page: the home page's "What exists today",
    so the list (and its length) cannot disagree with what is installed."""
    modules = collect().modules
    lines = [f"- **[{name}](modules/{name}.md)**: {module.description}." for name, module in modules.items()]
    return f"{len(modules)} modules:\n\n" + "\n".join(lines) + "\n"


def entity_drawings() -> str:
    """A link to every module's entity-relationship drawing, for the diagrams page."""
    modules = collect().modules
    links = [f"[{name}](diagrams/er-{name}.png)" for name, module in modules.items() if module.models]
    without = [name for name, module in modules.items() if not module.models]
    owns_none = f" ({', '.join(without)} owns no tables, so it has none)" if without else ""
    return ("Every module's drawing: " + ", ".join(links) + owns_none
            + " (and on each [module page](modules/index.md)).\n")


def recommendation_reasons() -> str:
    """The ``reason`` values a recommendation can carry, from ``ranking.EXPLAINED``."""
    from ecommerce.modules.recommendations.ranking import EXPLAINED

    rows = ["| `reason` | `score` | where it comes from |", "|---|---|---|"]
    rows += [f"| `{reason}` | {score} | {source} |" for reason, (score, source) in EXPLAINED.items()]
    return "\n".join(rows) + "\n"


def checkout_sequence() -> str:
    """The checkout sequence as a Mermaid block, from the committed ``diagrams/checkout.mmd`` (rendered in
    the browser by the vendored mermaid.min.js: no CDN)."""
    source = (Path(__file__).resolve().parents[3] / "diagrams" / "checkout.mmd").read_text(encoding="utf-8")
    body = "\n".join(line for line in source.splitlines() if not line.startswith("%%"))
    return "```mermaid\n" + body.strip() + "\n```\n"


def module_anatomy() -> str:
    """The anatomy from ``ecommerce.kernel.anatomy``: its roles, then each installed module's gaps (with the
    reasons its ``Module(lacks=...)`` gives) and its use-case files. A module that breaks the anatomy fails
    the build, so the page never shows a module the check would refuse."""
    from ecommerce.kernel import anatomy

    problems = anatomy.check_installed()
    if problems:
        raise ValueError("modules break the anatomy:\n" + "\n".join(problems))
    rows = ["| File | Role |", "|---|---|", "| `__init__.py` | `module = Module(...)`: everything the kernel needs |"]
    rows += [f"| `{role.path}` | {role.holds} |" for role in anatomy.ROLES]
    rows += ["", "| Module | Has no file for (and why) | Use cases and other files |", "|---|---|---|"]
    for name, (module, package) in sorted(anatomy.installed().items()):
        gaps = "; ".join(f"**{role}**: {why}" for role, why in module.lacks.items()) or "every role"
        others = ", ".join(f"`{file}`" for file in anatomy.other_files(package)) or "none"
        rows.append(f"| [{name}](modules/{name}.md) | {gaps} | {others} |")
    return "\n".join(rows) + "\n"
