"""The module dependency graph from the real imports (grimp): which group imports which, and through
which of its packages. Anything but ``api`` or ``events`` between modules breaks an import-linter
contract, so this drawing shows the boundaries as they are, not as intended."""

from __future__ import annotations

from ecommerce.devtools.drawings.dot import edge, header, lines_of, node
from ecommerce.devtools.drawings.facts import Facts

MODULE = "#7986cb"


def source(facts: Facts) -> str:
    lines = header("dependencies", rankdir="BT",
                   label="Who imports whom (from the code's real imports; kernel imports no module)")
    groups = sorted({g for pair in facts.imports for g in pair} | set(facts.modules) | {"kernel"})
    for group in groups:
        if group in facts.modules:
            lines.append(node(group, shape="box", style="rounded,filled", fillcolor="#e8eaf6", color=MODULE))
        elif group == "kernel":
            lines.append(node(group, label=lines_of("kernel", "(no domain knowledge)"), shape="box",
                              style="filled", fillcolor="#eeeeee"))
        else:
            lines.append(node(group, label=f"ecommerce.{group}", shape="box", style="dashed"))
    for (importer, imported), parts in facts.imports.items():
        if imported not in facts.modules:
            lines.append(edge(importer, imported, color="#bdbdbd"))
        else:
            lines.append(edge(importer, imported, label=lines_of(*(f"{imported}.{p}" for p in parts))))
    lines.append("}")
    return "\n".join(lines) + "\n"
