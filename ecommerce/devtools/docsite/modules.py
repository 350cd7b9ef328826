"""One reference section per module, from the registry: its database, tables with columns and indexes,
routes, events published and consumed, facade functions, jobs and diagrams. Appended to the module's
hand-written page (or making the whole page when a module has none)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import re
from typing import Any

from peewee import Model

from ecommerce.devtools.docsite import openapi, schema
from ecommerce.devtools.drawings.facts import Facts, collect
from ecommerce.kernel.module import Module


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").replace("``", "`").strip()


def routes(module: Module) -> list[tuple[str, str]]:
    """(method, OpenAPI-style path) of every route the module's blueprint declares."""
    from ecommerce.gateway.routes import module_routes

    found = {(route.method, re.sub(r"<(\w+)(?::[^>]+)?>", r"{\1}", route.path)) for route in module_routes(module)}
    return sorted(found, key=lambda r: (r[1], r[0]))


def facade(name: str) -> list[tuple[str, str, str]]:
    """(kind, name, first docstring line) of everything public in ``ecommerce.modules.<name>.api``."""
    try:
        api = importlib.import_module(f"ecommerce.modules.{name}.api")
    except ModuleNotFoundError:
        return []
    found = []
    for attr, obj in sorted(vars(api).items()):
        if attr.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if not getattr(obj, "__module__", "").startswith(f"ecommerce.modules.{name}"):
            continue
        if inspect.isclass(obj) and issubclass(obj, Model):  # a model imported for use, not an export
            continue
        kind = "exception" if inspect.isclass(obj) and issubclass(obj, Exception) else (
            "class" if inspect.isclass(obj) else "function")
        found.append((kind, attr, _first_line(obj)))
    return found


def commands(module: Module) -> list[tuple[str, str]]:
    """(``ecommerce ...`` command line, help) of every command the module adds to the CLI."""
    if module.cli is None:
        return []
    parser = argparse.ArgumentParser(prog="ecommerce")
    sub = parser.add_subparsers()
    module.add_commands(sub)
    found = []
    for name, group in sorted(sub.choices.items()):
        helps = {a.dest: a.help for a in sub._choices_actions}
        nested = [a for a in group._actions if isinstance(a, argparse._SubParsersAction)]
        if not nested:
            found.append((f"ecommerce {name}", helps.get(name) or ""))
            continue
        inner = {a.dest: a.help for a in nested[0]._choices_actions}
        for command in sorted(nested[0].choices):
            found.append((f"ecommerce {name} {command}", inner.get(command) or ""))
    return found


def _columns(facts: Facts, name: str, table: str) -> str:
    for t in facts.tables(name):
        if t.name == table:
            return ", ".join(f"`{c.name}`" for c in t.columns)
    return ""


def reference(name: str, facts: Facts | None = None) -> str:
    facts = facts or collect()
    module = facts.modules[name]
    spec = openapi.document()
    summaries = {(m, p): op.get("summary", "") for m, p, op in openapi.operations(spec)}
    indexes = schema.migrated().get(name, {})
    out = [
        "## Reference (generated from the code)\n",
        f"*{module.description}.* Generated from the module registry at build time "
        f"(`ecommerce/modules/{name}/__init__.py`), so it always matches the code.\n",
        "### Database\n",
        f"Its own database: the `ECOMMERCE_DATABASE_URL_{name.upper()}` URL when set, else the shared "
        f"`ECOMMERCE_DATABASE_URL` (on PostgreSQL in the schema `{name}`), else the SQLite file. "
        f"Migrations: `ecommerce/modules/{name}/migrations/`."
        + (f" Needs the modules: {', '.join(f'`{r}`' for r in module.requires)}." if module.requires else "")
        + "\n",
    ]
    if module.models:
        out.append("| table | columns | indexes (as migrated) |\n|---|---|---|")
        for table in module.tables:
            listed = "<br>".join(f"`{i.name}`{' (unique)' if i.unique else ''}: `{_index_columns(i.sql)}`"
                                 for i in indexes.get(table, [])) or "primary key only"
            out.append(f"| `{table}` | {_columns(facts, name, table)} | {listed} |")
        out.append("")
    kernel_tables = [t for t in indexes if t not in module.tables]
    if kernel_tables:
        out.append("Kernel tables in the same database (events and bookkeeping): "
                   + ", ".join(f"`{t}`" for t in kernel_tables) + ".\n")
    if module.models:
        out.append(f"![{name} tables](../diagrams/er-{name}.png)\n")
    out.append("### Routes\n")
    found_routes = routes(module)
    if found_routes:
        out.append("| method | path | summary |\n|---|---|---|")
        for method, path in found_routes:
            out.append(f"| `{method}` | `{path}` | {summaries.get((method, path), '')} |")
        out.append("\nSchemas and statuses: [HTTP API reference](../reference/http-api.md).\n")
    else:
        out.append("None: this module has no HTTP routes.\n")
    out.append("### Events published\n")
    if module.publishes:
        out.append("| event | fields | consumed by |\n|---|---|---|")
        for event in module.publishes:
            fields = ", ".join(f"`{f.name}`" for f in dataclasses.fields(event))
            consumers = sorted({f.consumer for f in facts.flows if f.event == event.key()})
            out.append(f"| `{event.key()}` | {fields} | {', '.join(consumers) or '—'} |")
        out.append("")
    else:
        out.append("None.\n")
    out.append("### Events consumed\n")
    consumed = facts.consumed_by(name)
    if consumed:
        out.append("| event | from | handler (inbox name) | delivery |\n|---|---|---|---|")
        for flow in consumed:
            mode = "atomic with the inbox" if flow.atomic else "non-atomic, idempotent"
            out.append(f"| `{flow.event}` | {flow.publisher} | `{flow.handler}` | {mode} |")
        out.append("")
    else:
        out.append("None.\n")
    out.append("### Facade (`api.py`)\n")
    functions = facade(name)
    if functions:
        out.append("What other modules and scripts may call "
                   f"([signatures](../reference/python-api.md#ecommerce.modules.{name}.api)):\n")
        out.append("| name | kind | what it does |\n|---|---|---|")
        for kind, attr, line in functions:
            out.append(f"| `{attr}` | {kind} | {line} |")
        out.append("")
    else:
        out.append("None: no other module calls this one; it only reacts to events.\n")
    found_commands = commands(module)
    if found_commands:
        out.append("### Commands\n")
        out.append("| command | what it does |\n|---|---|")
        out += [f"| `{line}` | {text} |" for line, text in found_commands]
        out.append("\nOptions and exit statuses: [Command line](../cli.md).\n")
    if module.jobs:
        out.append("### Background jobs\n")
        out.append("| job | every |\n|---|---|")
        for job in module.jobs:
            out.append(f"| `{job.name}` | {job.every:g} s |")
        out.append("")
    return "\n".join(out) + "\n"


def _index_columns(sql: str) -> str:
    match = re.search(r'ON "?\w+"? (.*)$', sql)
    return (match.group(1) if match else sql).replace('"', "")


def overview(facts: Facts | None = None) -> str:
    """The modules index: every module, and which module owns each table."""
    facts = facts or collect()
    out = ["| module | what it owns | tables | publishes (its own events) | consumes |", "|---|---|---|---|---|"]
    for name, module in facts.modules.items():
        consumed = sorted({f.event for f in facts.consumed_by(name)})
        out.append(f"| [{name}]({name}.md) | {module.description} | {len(module.tables)} | "
                   f"{', '.join(f'`{e.key().split(chr(46), 1)[1]}`' for e in module.publishes) or '—'} | "
                   f"{', '.join(f'`{e}`' for e in consumed) or '—'} |")
    out += ["", "Drawn from the same registry, with the events and facade calls between the modules "
            "([all diagrams](../diagrams.md)):", "", "![The modules](../diagrams/monolith.png)",
            "", "## Which module owns a table", "", "| table | owner |", "|---|---|"]
    owners = sorted((table, name) for name, module in facts.modules.items() for table in module.tables)
    out += [f"| `{table}` | [{name}]({name}.md) |" for table, name in owners]
    return "\n".join(out) + "\n"
